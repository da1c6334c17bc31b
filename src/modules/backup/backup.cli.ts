import { SingleBar } from 'cli-progress';
import { parseArgs } from 'node:util';
import { type CliCommand, UsageError, wantsHelp } from '../../cli-support.ts';
import { type Config, loadConfig } from '../../config.ts';
import { BackupError, type BackupSummary, createBackup, restoreBackup } from './backup.service.ts';

const backupUsage = `Usage: gazette backup <file.tar.gz>

Writes a consistent copy of a SQLite site (the database, by VACUUM INTO, and DATA_DIR/media) into one
.tar.gz, while the site serves and sends. On PostgreSQL it prints the pg_dump command to use instead.`;

const restoreUsage = `Usage: gazette restore <file.tar.gz>

Restores a backup made by 'gazette backup' into an empty DATA_DIR (and the SQLite file DATABASE_URL names),
then 'gazette serve' starts on it. Refuses a folder that is not empty and an archive that is not a backup.`;

/**
 * The shape both commands share: --help, exactly one archive, the configuration, and a BackupError printed
 * as one line with exit code 1.
 */
function archiveCommand(
  summary: string,
  command: string,
  usage: string,
  work: (config: Config, file: string) => Promise<void>,
): CliCommand {
  return {
    summary,
    usage: `gazette ${command} <file.tar.gz>`,
    run: async (args) => {
      if (wantsHelp(args)) {
        console.log(usage);
        return 0;
      }
      const { positionals } = parseArgs({ args, options: {}, allowPositionals: true, strict: true });
      const [file, extra] = positionals;
      if (file === undefined || extra !== undefined)
        throw new UsageError(`Give one archive file. Run 'gazette ${command} --help'.`);
      const config = loadConfig();
      try {
        await work(config, file);
        return 0;
      } catch (error) {
        if (!(error instanceof BackupError)) throw error;
        console.error(`gazette: ${error.message}`);
        return 1;
      }
    },
  };
}

/** `gazette backup <file>`: a progress bar on stderr while the media folder is archived. */
export const backupCommand = archiveCommand(
  'Back up a SQLite site (database and media) into one .tar.gz while it runs.',
  'backup',
  backupUsage,
  async (config, file) => {
    const bar = new SingleBar({
      stream: process.stderr,
      format: 'Backing up media |{bar}| {percentage}% | {files}/{totalFiles} files',
      noTTYOutput: true,
      notTTYSchedule: 2000,
      hideCursor: false,
    });
    let started = false;
    let summary: BackupSummary;
    try {
      summary = await createBackup(config, file, (p) => {
        if (!started) bar.start(Math.max(p.totalBytes, 1), 0, { files: 0, totalFiles: p.totalFiles });
        started = true;
        bar.update(p.doneBytes, { files: p.doneFiles, totalFiles: p.totalFiles });
      });
    } finally {
      if (started) bar.stop();
    }
    const media =
      summary.media === 'external'
        ? 'media is in the object store (MEDIA_URL), not in this backup'
        : `${summary.mediaFiles} media files`;
    console.log(
      `Backed up to ${summary.file} (${(summary.bytes / 1024 / 1024).toFixed(1)} MB; the database and ${media}).`,
    );
  },
);

/** `gazette restore <file>`. */
export const restoreCommand = archiveCommand(
  'Restore a backup made by `gazette backup` into an empty DATA_DIR.',
  'restore',
  restoreUsage,
  async (config, file) => {
    const summary = await restoreBackup(config, file);
    console.log(
      `Restored the backup of ${summary.createdAt} (${summary.mediaFiles} media files) into ${config.dataDir}. Start it with 'gazette serve'.`,
    );
  },
);
