/**
 * One PostgreSQL connection of its own that LISTENs on one channel for the rest of the process's life: it
 * reconnects a second after the connection fails, and says whether it is listening. Notifications sent while it
 * is not are lost, so its users treat "not listening" as "may have missed something".
 */
import pg from 'pg';

const RECONNECT_AFTER_MS = 1_000;

export interface ChannelListenerOptions {
  connection: pg.ClientConfig;
  channel: string;
  onNotification(payload: string): void;
  /** listening has (re)started; whatever was sent before may have been missed */
  onListening?(): void;
  /** the connection failed or could not be made; listening stops until the reconnection */
  onError?(error: unknown): void;
}

export class ChannelListener {
  private client: pg.Client | null = null;
  private listening = false;
  private started = false;
  private closed = false;
  private reconnectTimer: NodeJS.Timeout | null = null;

  constructor(private readonly options: ChannelListenerOptions) {
    if (!/^[a-z_][a-z0-9_]*$/.test(options.channel))
      throw new Error(`invalid channel name ${options.channel}`);
  }

  get isListening(): boolean {
    return this.listening;
  }

  /** Starts listening (once; later calls do nothing); resolves after the first attempt, successful or not. */
  start(): Promise<void> {
    if (this.started) return Promise.resolve();
    this.started = true;
    return this.connect();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    const client = this.client;
    this.client = null;
    this.listening = false;
    await client?.end().catch(() => {});
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const { connection, channel, onNotification, onListening, onError } = this.options;
    const client = new pg.Client(connection);
    const failed = (error: unknown) => {
      if (this.client !== client) return;
      this.client = null;
      this.listening = false;
      client.end().catch(() => {});
      if (this.closed) return;
      onError?.(error);
      this.reconnectTimer = setTimeout(() => void this.connect(), RECONNECT_AFTER_MS);
      this.reconnectTimer.unref();
    };
    this.client = client;
    client.on('error', failed);
    client.on('end', () => failed(new Error(`the connection listening on ${channel} ended`)));
    client.on('notification', (message) => {
      if (message.channel === channel && message.payload) onNotification(message.payload);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${channel}`);
      if (this.client !== client) return;
      this.listening = true;
      onListening?.();
    } catch (error) {
      failed(error);
    }
  }
}
