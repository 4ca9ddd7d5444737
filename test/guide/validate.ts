// Test helper: runs Debian's `tv_validate_file` (package xmltv-util) on an XMLTV document and
// returns its exit code and complaints. The DTD comes from the package: the tool would otherwise
// download it, and tests do not depend on the network.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const DTD = ['/usr/share/xmltv/xmltv.dtd', '/usr/local/share/xmltv/xmltv.dtd'].find((path) => existsSync(path));

export interface Validation {
  code: number | null;
  /** Every line it printed but its verdict ("Validated ok.", "N errors found."). */
  complaints: string[];
  output: string;
}

export async function tvValidate(xml: string | Buffer): Promise<Validation> {
  const dir = mkdtempSync(join(tmpdir(), 'xg2g-xmltv-'));
  try {
    const file = join(dir, 'guide.xml');
    writeFileSync(file, xml);
    if (!DTD) throw new Error('xmltv.dtd is not installed: apt-get install xmltv-util');
    const child = spawn('tv_validate_file', ['--dtd-file', DTD, file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', resolve);
    });
    const complaints = output.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !/^Validated ok\.$|^\d+ errors? found\.$/.test(l));
    return { code, complaints, output };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
