// What other parts of Gazette may use of the seed module (docs/ARCHITECTURE.md, "Modules and borders").
export { seedDemoPublication } from './seed.service.ts';
