// `authctl` entry point (commands are registered in cli/commands/).
export async function main(_argv: string[]): Promise<void> {
  process.stderr.write('authctl: not built yet\n');
  process.exit(1);
}
