/** The serial seam: open a port by path at a baud rate, bytes in and out. */
export interface SerialConnection {
  write(data: Buffer): Promise<void>;
  onData(listener: (chunk: Buffer) => void): () => void;
  setBaud(baud: number): Promise<void>;
  close(): Promise<void>;
}

export interface SerialDriver {
  readonly kind: 'serialport' | 'simulated';
  open(path: string, baud: number): Promise<SerialConnection>;
}

/** Fan-out for data listeners, shared by the implementations. */
export class DataListeners {
  private readonly set = new Set<(chunk: Buffer) => void>();
  add(listener: (chunk: Buffer) => void): () => void {
    this.set.add(listener);
    return () => this.set.delete(listener);
  }
  emit(chunk: Buffer): void {
    for (const l of this.set) l(chunk);
  }
  clear(): void {
    this.set.clear();
  }
}
