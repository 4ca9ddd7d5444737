/**
 * Where a stream client's bytes go: an HTTP response (headers sent with the first packet, so a
 * session that fails before any data can still answer 502/503), or a pipe into a local consumer
 * such as the HLS segmenter's ffmpeg. The writable's own buffer is the client's queue.
 */
import { ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import { StreamError } from './stream-error';

export interface ClientSink {
  /** Bytes written but not yet taken by the peer. */
  readonly writableLength: number;
  /** True once the first data went out (an HTTP client has its 200 then). */
  readonly begun: boolean;
  write(data: Buffer): void;
  /** Ends cleanly, or with an error for a client that received nothing yet. */
  end(error?: StreamError): void;
  destroy(): void;
  /** The callback for "gone": the peer closed, failed, or we ended it. Called at most once. */
  onClose(listener: () => void): void;
}

/** What a local client (HLS, a camera view) does with its session's bytes. */
export interface LocalConsumer {
  /** Takes the session's bytes at once (into a segmenter, or an ffmpeg's stdin). */
  receive(data: Buffer): void;
  /** The session ended the client, cleanly or with the reason. */
  ended(error?: StreamError): void;
  /** The session dropped the client for falling behind (only when `backlog` can grow). */
  dropped?(): void;
  /** Bytes taken but not yet consumed (an ffmpeg's unread stdin): the session bounds it. */
  backlog?(): number;
}

/** A sink for a client inside the proxy: no socket, the consumer takes each chunk as it comes. */
export function localSink(consumer: LocalConsumer): ClientSink {
  let begun = false;
  let closed = false;
  const closeListeners: Array<() => void> = [];
  const close = (): void => {
    if (closed) return;
    closed = true;
    for (const listener of closeListeners.splice(0)) listener();
  };
  return {
    get writableLength() {
      return consumer.backlog?.() ?? 0;
    },
    get begun() {
      return begun;
    },
    write(data) {
      begun = true;
      consumer.receive(data);
    },
    end(error) {
      close();
      consumer.ended(error);
    },
    destroy() {
      close();
      consumer.dropped?.();
    },
    onClose: (listener) => void closeListeners.push(listener),
  };
}

export function httpSink(response: ServerResponse): ClientSink {
  return {
    get writableLength() {
      return response.writableLength;
    },
    get begun() {
      return response.headersSent;
    },
    write(data) {
      if (!response.headersSent) {
        response.writeHead(200, { 'Content-Type': 'video/mp2t', 'Cache-Control': 'no-cache, no-store', Connection: 'close' });
      }
      response.write(data);
    },
    end(error) {
      if (!response.headersSent && error) {
        const body = `${error.message}\n`;
        response.writeHead(error.httpStatus, {
          'Content-Type': 'text/plain; charset=utf-8',
          'Content-Length': Buffer.byteLength(body),
          ...(error.httpStatus === 503 ? { 'Retry-After': '10' } : {}),
        });
        response.end(body);
      } else {
        response.end();
      }
    },
    destroy: () => response.destroy(),
    onClose(listener) {
      // 'close' fires both when the peer goes away and after we end the response.
      response.once('close', listener);
      response.on('error', listener);
    },
  };
}

/** `onEnd` learns why the session ended the pipe (an error when it never got going). */
export function pipeSink(stream: Writable, onEnd?: (error?: StreamError) => void): ClientSink {
  let begun = false;
  return {
    get writableLength() {
      return stream.writableLength;
    },
    get begun() {
      return begun;
    },
    write(data) {
      begun = true;
      stream.write(data);
    },
    end(error) {
      onEnd?.(error);
      stream.end();
    },
    destroy: () => stream.destroy(),
    onClose(listener) {
      stream.once('close', listener);
      stream.on('error', listener);
    },
  };
}
