import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './ports.ts';
import { eventually } from './eventually.ts';

/** The Debian package nginx-light (.ci/run installs it). */
export const nginxBinary = '/usr/sbin/nginx';

export interface Nginx {
  url: string;
  stop: () => Promise<void>;
}

/**
 * A real nginx reverse proxy in front of `upstream`, configured as the README advises: it appends the peer's
 * address to X-Forwarded-For and sets X-Forwarded-Proto. Everything it writes (pid, error log, temp
 * paths) stays in its own temp dir; it runs in the foreground as the test's user and is stopped with SIGQUIT.
 */
export async function startNginx(upstream: string, options: { forwardedProto?: string } = {}): Promise<Nginx> {
  const dir = await mkdtemp(path.join(tmpdir(), 'gazette-nginx-'));
  const port = await freePort();
  const temp = (name: string) => path.join(dir, name);
  const config = `
daemon off;
master_process on;
worker_processes 1;
pid ${temp('nginx.pid')};
error_log ${temp('error.log')} warn;
${process.getuid?.() === 0 ? 'user root;' : ''}
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${temp('body')};
  proxy_temp_path ${temp('proxy')};
  fastcgi_temp_path ${temp('fastcgi')};
  uwsgi_temp_path ${temp('uwsgi')};
  scgi_temp_path ${temp('scgi')};
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass ${upstream};
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto ${options.forwardedProto ?? '$scheme'};
    }
  }
}
`;
  await writeFile(temp('nginx.conf'), config);
  const child = spawn(nginxBinary, ['-p', dir, '-e', temp('error.log'), '-c', temp('nginx.conf')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  // Ready once it answers (with the upstream's answer or its own 502).
  await eventually(
    () => {
      if (child.exitCode !== null) throw new Error(`nginx exited: ${output}`);
      return fetch(url, { method: 'HEAD' }).then(
        () => true,
        () => false,
      );
    },
    () => `nginx to start: ${output}`,
    10_000,
  );
  return {
    url,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGQUIT');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
