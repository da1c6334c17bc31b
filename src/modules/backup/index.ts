// What other parts of Gazette may use of the backup module (docs/ARCHITECTURE.md, "Modules and borders").
export { backupCommand, restoreCommand } from './backup.cli.ts';
