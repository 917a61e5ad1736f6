// Piscina worker: the shared data arrive once in workerData; each call runs one task.
import Piscina from 'piscina';
import type { SharedData, TaskMessage, TaskResult } from '../src/pool/protocol.js';
import { fitTask } from './fitTask.js';

const shared = Piscina.workerData as SharedData;

export default function runTask(message: TaskMessage) {
  const result: TaskResult = fitTask(shared, message);
  // Hand the coefficient buffers back by transfer, not by copy (piscina's Transferable interface).
  return Piscina.move({
    [Piscina.transferableSymbol]: [result.coefs.buffer, result.intercepts.buffer],
    [Piscina.valueSymbol]: result,
  });
}
