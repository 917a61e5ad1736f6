// A child process for SqliteStore.readOnlyQuery: opens the database read-only, runs one statement that only reads,
// and sends its rows back; the parent ends it when the statement runs past its time limit.
import { UserError } from '../../errors.js';
import { openForReading } from './file.js';

process.once('message', (message: { path: string; sql: string }) => {
  const reply = (m: object) => process.send!(m, () => process.exit(0));
  let db;
  try {
    db = openForReading(message.path);
    let stmt;
    try {
      stmt = db.prepare(message.sql);
    } catch (e) {
      throw new UserError(`--sql: ${(e as Error).message}`);
    }
    if (!stmt.reader || !stmt.readonly) throw new UserError('--sql: only statements that read (SELECT ...) are allowed; the database was not changed');
    let rows;
    try {
      rows = stmt.all();
    } catch (e) {
      throw new UserError(`--sql: ${(e as Error).message}`);
    }
    reply({ rows });
  } catch (e) {
    reply({ error: (e as Error).message, user: e instanceof UserError });
  } finally {
    db?.close();
  }
});
