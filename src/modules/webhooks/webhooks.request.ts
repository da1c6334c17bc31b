import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import type { IncomingMessage } from 'node:http';
import ipaddr from 'ipaddr.js';

const http = process.getBuiltinModule('node:http');
const https = process.getBuiltinModule('node:https');

/**
 * Whether Gazette may connect to an address without the endpoint's explicit permission: only global unicast.
 * Loopback, private (RFC 1918), link-local (cloud metadata at 169.254.169.254), unique-local (fc00::/7),
 * carrier-grade NAT, unspecified (0.0.0.0 reaches this machine), multicast and reserved ranges are refused,
 * and an IPv4-mapped IPv6 address (`::ffff:127.0.0.1`) is judged as the IPv4 address it carries.
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  return ipaddr.process(address).range() === 'unicast';
}

/** A refusal to connect, said in the words the newsroom shows. */
export class PrivateAddressError extends Error {
  constructor(host: string, address: string) {
    super(
      `${host} is a private, loopback or link-local address (${address}); allow private addresses for this endpoint to send there`,
    );
  }
}

export interface PostResult {
  /** Null when no HTTP answer came (refused, timed out, a private address). */
  status: number | null;
  durationMs: number;
  error: string | null;
  /** The start of the answer's body, as text (for the delivery log; shown escaped). */
  excerpt: string | null;
}

export interface PostOptions {
  allowPrivate: boolean;
  timeoutMs: number;
}

const excerptLength = 1000;
/** Read at most this much of an answer: only its start is kept, and a huge answer must not hold a lane. */
const maxBodyBytes = 16 * 1024;

/**
 * POSTs `body` to `url` and reports how it went; never throws. The address is checked where the socket is
 * made: the `lookup` given to the request judges every address the name resolves to, and that answer is
 * the one connected to, so a name that resolves to a public address when registered and to a private one
 * later (DNS rebinding) is refused. Redirects are not followed: a 3xx is a failed attempt like any non-2xx.
 */
export async function postWebhook(
  url: URL,
  body: string,
  headers: Record<string, string>,
  options: PostOptions,
): Promise<PostResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  // An address written in the URL is connected to without a lookup, so it is judged here.
  if (!options.allowPrivate && ipaddr.isValid(host) && !isPublicAddress(host)) {
    return { status: null, durationMs: elapsed(), error: new PrivateAddressError(host, host).message, excerpt: null };
  }
  const lookup = (
    hostname: string,
    lookupOptions: LookupOptions,
    callback: (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ) => {
    dnsLookup(hostname, { ...lookupOptions, all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      const refused = options.allowPrivate ? undefined : addresses.find((a) => !isPublicAddress(a.address));
      if (refused)
        return callback(
          Object.assign(new PrivateAddressError(hostname, refused.address), { code: 'EPRIVATEADDRESS' }),
          [],
        );
      if (lookupOptions.all) return callback(null, addresses);
      const first = addresses[0];
      if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), []);
      callback(null, first.address, first.family);
    });
  };
  const client = url.protocol === 'https:' ? https : http;
  return new Promise<PostResult>((resolve) => {
    let settled = false;
    const finish = (result: Omit<PostResult, 'durationMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...result, durationMs: elapsed() });
    };
    const request = client.request(
      url,
      {
        method: 'POST',
        // A fresh connection each time: a pooled socket would skip the address check of this request.
        agent: false,
        lookup,
        headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
      },
      (response: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const done = () => {
          const text = Buffer.concat(chunks).toString('utf8').slice(0, excerptLength);
          const status = response.statusCode ?? null;
          const ok = status !== null && status >= 200 && status < 300;
          finish({
            status,
            error: ok ? null : `the endpoint answered ${status ?? 'nothing'}`,
            excerpt: text === '' ? null : text,
          });
          response.destroy();
        };
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size <= maxBodyBytes) chunks.push(chunk);
          else done();
        });
        response.on('end', done);
        response.on('error', done);
      },
    );
    const timer = setTimeout(() => {
      request.destroy(new Error(`no answer within ${options.timeoutMs / 1000} s`));
    }, options.timeoutMs);
    request.on('error', (error: NodeJS.ErrnoException) =>
      finish({ status: null, error: describe(error), excerpt: null }),
    );
    request.end(body);
  });
}

function describe(error: NodeJS.ErrnoException): string {
  if (error.code === 'ECONNREFUSED') return 'connection refused';
  if (error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN') return `the name did not resolve (${error.code})`;
  return error.message;
}
