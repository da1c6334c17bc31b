import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';

/** What ffprobe tells about an upload. */
export interface VideoProbe {
  durationSeconds: number;
  width: number | null;
  height: number | null;
  videoCodec: string | null;
  audioCodec: string | null;
}

/** ffmpeg or ffprobe failed: `message` is the tail of its stderr, for logs and a job's error. */
export class FfmpegError extends Error {
  override name = 'FfmpegError';
}

interface RunResult {
  stdout: string;
  stderr: string;
}

/**
 * The demuxer for each video type the upload sniffer accepts. ffmpeg is never left to guess the format:
 * its probe scores the whole first buffer, so a file that starts with QuickTime magic bytes can still be
 * taken for a DASH manifest (or an HLS or concat playlist) whose entries name other files on the server.
 */
const demuxers: Record<string, string> = { 'video/mp4': 'mov', 'video/quicktime': 'mov', 'video/webm': 'matroska' };

/** A video for ffmpeg or ffprobe to read: a local file and the type the sniffer (or its media row) gave it. */
export interface VideoInput {
  path: string;
  mimeType: string;
}

/** How long each kind of run may take before its process is killed (a hostile file can make ffmpeg spin). */
const ffmpegTimeouts = {
  probeMs: 30_000,
  posterMs: 60_000,
  /** Plus four times the clip's length: re-encoding runs at about real time on a small, busy machine. */
  clipBaseMs: 120_000,
};

/**
 * Where it exists (util-linux, on Linux), ffmpeg is started through `setpriv --pdeathsig KILL`, so the
 * kernel kills it when this process dies, even by SIGKILL, instead of leaving it running unsupervised.
 */
let deathSignalWrapper: string | null | undefined;
function findDeathSignalWrapper(): string | null {
  if (deathSignalWrapper !== undefined) return deathSignalWrapper;
  deathSignalWrapper = null;
  if (process.platform !== 'linux') return deathSignalWrapper; // PR_SET_PDEATHSIG is Linux only
  for (const dir of [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), '/usr/bin', '/bin']) {
    const candidate = path.join(dir, 'setpriv');
    try {
      accessSync(candidate, constants.X_OK);
      deathSignalWrapper = candidate;
      break;
    } catch {
      // not here
    }
  }
  return deathSignalWrapper;
}

export interface ToolRun {
  input: VideoInput;
  /** Input options (before `-i`), e.g. `-ss` for a fast seek. */
  inputOptions?: readonly string[];
  /** Everything after the input: output options and the output file. */
  args: readonly string[];
  timeoutMs: number;
  /** Sees stdout line by line as it comes (`-progress pipe:1`). */
  onStdoutLine?: (line: string) => void;
  /** Kills the process (the worker is stopping). */
  signal?: AbortSignal;
}

/**
 * The one way Gazette runs ffmpeg and ffprobe; every call goes through here so each reads only the file
 * it is given:
 * - the demuxer is forced from the sniffed type (no playlist or manifest demuxer can be chosen by content),
 *   and for `mov` external data references stay off;
 * - `-protocol_whitelist file` and a `file:` URL, so neither the input name nor anything inside it can
 *   reach the network, `concat:`, `subfile:`, `data:` or other nesting protocols;
 * - no shell, stdin closed, a wall-clock timeout that SIGKILLs the process, and death with its parent.
 */
export function runMediaTool(tool: 'ffmpeg' | 'ffprobe', run: ToolRun): Promise<RunResult> {
  const demuxer = demuxers[run.input.mimeType];
  if (!demuxer) return Promise.reject(new FfmpegError(`${tool}: no demuxer for ${run.input.mimeType}`));
  const args = [
    '-hide_banner',
    '-v',
    'error',
    ...(tool === 'ffmpeg' ? ['-nostdin', '-y'] : []),
    '-protocol_whitelist',
    'file',
    '-f',
    demuxer,
    ...(demuxer === 'mov' ? ['-enable_drefs', '0'] : []),
    ...(run.inputOptions ?? []),
    '-i',
    `file:${path.resolve(run.input.path)}`,
    ...run.args,
  ];
  const wrapper = findDeathSignalWrapper();
  return spawnTool(tool, wrapper ? [wrapper, ['--pdeathsig', 'KILL', '--', tool, ...args]] : [tool, args], run);
}

function spawnTool(tool: string, [command, args]: [string, string[]], options: ToolRun): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.signal ? { signal: options.signal } : {}),
    });
    let stdout = '';
    let stderr = '';
    let pending = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      if (stdout.length < 1_000_000) stdout += chunk;
      if (!options.onStdoutLine) return;
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) options.onStdoutLine(line.trim());
    });
    // Only the tail matters for an error message; keep memory bounded on a chatty run.
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-8000)));
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new FfmpegError(`${tool}: ${error.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) reject(new FfmpegError(`${tool} took longer than ${options.timeoutMs / 1000} s and was stopped`));
      else if (code === 0) resolve({ stdout, stderr });
      else
        reject(
          new FfmpegError(`${tool} exited with ${code ?? signal}: ${stderr.trim().split('\n').slice(-3).join(' / ')}`),
        );
    });
  });
}

/** Duration, size and codecs of a video file; rejects with FfmpegError when ffprobe cannot read it as one. */
export async function probeVideo(input: VideoInput): Promise<VideoProbe> {
  const { stdout } = await runMediaTool('ffprobe', {
    input,
    args: ['-print_format', 'json', '-show_format', '-show_streams'],
    timeoutMs: ffmpegTimeouts.probeMs,
  });
  const info = JSON.parse(stdout) as {
    format?: { duration?: string };
    streams?: { codec_type?: string; codec_name?: string; width?: number; height?: number; duration?: string }[];
  };
  const video = info.streams?.find((s) => s.codec_type === 'video');
  const audio = info.streams?.find((s) => s.codec_type === 'audio');
  const duration = Number(info.format?.duration ?? video?.duration);
  if (!video || !Number.isFinite(duration) || duration <= 0)
    throw new FfmpegError('ffprobe: no video stream with a duration');
  return {
    durationSeconds: Math.round(duration * 1000) / 1000,
    width: video.width ?? null,
    height: video.height ?? null,
    videoCodec: video.codec_name ?? null,
    audioCodec: audio?.codec_name ?? null,
  };
}

/** A JPEG poster frame, taken a second in (or at the middle of a shorter video), at the video's own size. */
export async function extractPoster(video: VideoInput, durationSeconds: number, output: string): Promise<void> {
  const at = Math.min(1, durationSeconds / 2);
  await runMediaTool('ffmpeg', {
    input: video,
    inputOptions: ['-ss', at.toFixed(3)],
    args: ['-frames:v', '1', '-q:v', '3', `file:${output}`],
    timeoutMs: ffmpegTimeouts.posterMs,
  });
}

/**
 * Cuts `[start, end)` out of `input` into a web-friendly MP4: H.264 (yuv420p, which every browser plays)
 * and AAC, with the index at the front (+faststart) so playback starts before the whole file arrives.
 * Re-encoding (rather than `-c copy`) makes the cut exact: a copy could only cut at keyframes.
 * `onProgress` gets 0–100 from ffmpeg's `-progress` lines (`out_time_us` is microseconds written).
 */
export async function cutClip(
  input: VideoInput,
  output: string,
  clip: { startSeconds: number; endSeconds: number },
  options: { onProgress?: (percent: number) => void; signal?: AbortSignal } = {},
): Promise<void> {
  const length = clip.endSeconds - clip.startSeconds;
  const args = [
    '-t',
    length.toFixed(3),
    '-map',
    '0:v:0',
    '-map',
    '0:a:0?',
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-crf',
    '23',
    '-pix_fmt',
    'yuv420p',
    // Even dimensions: yuv420p needs them.
    '-vf',
    'scale=trunc(iw/2)*2:trunc(ih/2)*2',
    '-c:a',
    'aac',
    '-b:a',
    '128k',
    '-movflags',
    '+faststart',
    '-progress',
    'pipe:1',
    '-nostats',
    `file:${output}`,
  ];
  await runMediaTool('ffmpeg', {
    input,
    inputOptions: ['-ss', clip.startSeconds.toFixed(3)],
    args,
    timeoutMs: ffmpegTimeouts.clipBaseMs + 4 * length * 1000,
    ...(options.signal ? { signal: options.signal } : {}),
    onStdoutLine: (line) => {
      const match = /^out_time_(?:us|ms)=(\d+)$/.exec(line);
      if (match && options.onProgress) options.onProgress(Math.min(99, (Number(match[1]) / 1e6 / length) * 100));
      if (line === 'progress=end') options.onProgress?.(100);
    },
  });
}
