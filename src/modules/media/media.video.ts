import { spawn } from 'node:child_process';

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
 * Runs ffmpeg/ffprobe without a shell (arguments are never parsed by one), with stdin closed. `onStdoutLine`
 * sees stdout as it comes (`-progress pipe:1`); `signal` kills it (the worker is stopping).
 */
function run(command: string, args: readonly string[], options: { onStdoutLine?: (line: string) => void; signal?: AbortSignal } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(options.signal ? { signal: options.signal } : {}) });
    let stdout = '';
    let stderr = '';
    let pending = '';
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
    child.on('error', (error) => reject(new FfmpegError(`${command}: ${error.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) resolve({ stdout, stderr });
      else reject(new FfmpegError(`${command} exited with ${code ?? signal}: ${stderr.trim().split('\n').slice(-3).join(' / ')}`));
    });
  });
}

/** Duration, size and codecs of a video file; rejects with FfmpegError when ffprobe cannot read it as one. */
export async function probeVideo(file: string): Promise<VideoProbe> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', file]);
  const info = JSON.parse(stdout) as {
    format?: { duration?: string };
    streams?: { codec_type?: string; codec_name?: string; width?: number; height?: number; duration?: string }[];
  };
  const video = info.streams?.find((s) => s.codec_type === 'video');
  const audio = info.streams?.find((s) => s.codec_type === 'audio');
  const duration = Number(info.format?.duration ?? video?.duration);
  if (!video || !Number.isFinite(duration) || duration <= 0) throw new FfmpegError('ffprobe: no video stream with a duration');
  return {
    durationSeconds: Math.round(duration * 1000) / 1000,
    width: video.width ?? null,
    height: video.height ?? null,
    videoCodec: video.codec_name ?? null,
    audioCodec: audio?.codec_name ?? null,
  };
}

/** A JPEG poster frame, taken a second in (or at the middle of a shorter video), at the video's own size. */
export async function extractPoster(video: string, durationSeconds: number, output: string): Promise<void> {
  const at = Math.min(1, durationSeconds / 2);
  await run('ffmpeg', ['-nostdin', '-v', 'error', '-y', '-ss', at.toFixed(3), '-i', video, '-frames:v', '1', '-q:v', '3', output]);
}

/**
 * Cuts `[start, end)` out of `input` into a web-friendly MP4: H.264 (yuv420p, which every browser plays)
 * and AAC, with the index at the front (+faststart) so playback starts before the whole file arrives.
 * Re-encoding (rather than `-c copy`) makes the cut exact: a copy could only cut at keyframes.
 * `onProgress` gets 0–100 from ffmpeg's `-progress` lines (`out_time_us` is microseconds written).
 */
export async function cutClip(
  input: string,
  output: string,
  clip: { startSeconds: number; endSeconds: number },
  options: { onProgress?: (percent: number) => void; signal?: AbortSignal } = {},
): Promise<void> {
  const length = clip.endSeconds - clip.startSeconds;
  const args = [
    '-nostdin', '-v', 'error', '-y',
    '-ss', clip.startSeconds.toFixed(3), '-i', input, '-t', length.toFixed(3),
    '-map', '0:v:0', '-map', '0:a:0?',
    '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23', '-pix_fmt', 'yuv420p',
    // Even dimensions: yuv420p needs them.
    '-vf', 'scale=trunc(iw/2)*2:trunc(ih/2)*2',
    '-c:a', 'aac', '-b:a', '128k',
    '-movflags', '+faststart',
    '-progress', 'pipe:1', '-nostats',
    output,
  ];
  await run('ffmpeg', args, {
    ...(options.signal ? { signal: options.signal } : {}),
    onStdoutLine: (line) => {
      const match = /^out_time_(?:us|ms)=(\d+)$/.exec(line);
      if (match && options.onProgress) options.onProgress(Math.min(99, (Number(match[1]) / 1e6 / length) * 100));
      if (line === 'progress=end') options.onProgress?.(100);
    },
  });
}
