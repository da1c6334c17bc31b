// What other parts of Gazette may use of the bounces module (docs/ARCHITECTURE.md, "Modules and borders").
export { bouncesCommand } from './bounces.cli.ts';
