export async function writeReport(_db: string, _o: {sweep?: string; outDir?: string; png?: boolean}): Promise<{htmlPath: string; warnings: string[]}> { throw new Error('report: not built yet'); }
