import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const root = fileURLToPath(new URL('../../', import.meta.url))
/** The dashboard's sources (web/) and where their build goes (git-ignored). */
export const WEB_SOURCES = join(root, 'web')
export const WEB_DIST = join(root, 'dist', 'web')
const STAMP = join(WEB_DIST, '.sources-hash')
const VITE = join(root, 'node_modules', 'vite', 'bin', 'vite.js')

/**
 * Builds the dashboard with Vite unless dist/web already holds the build of these very sources
 * (and these very dependencies): a fresh clone builds once, in a few seconds; later starts
 * only hash a few dozen files. Returns whether it built.
 */
export async function ensureWebBuild(
  progress: (line: string) => void = () => {},
): Promise<boolean> {
  const hash = sourcesHash()
  if (existsSync(STAMP) && readFileSync(STAMP, 'utf8') === hash) return false
  progress('building the dashboard (web/ changed)')
  const started = Date.now()
  // In a process of its own, with NODE_ENV=production whatever this one has (vitest sets "test"):
  // React's production build, its JSX compiled to match. Vite is a dev dependency; a production
  // image builds the dashboard when it is made.
  await promisify(execFile)(
    process.execPath,
    [VITE, 'build', '--config', join(WEB_SOURCES, 'vite.config.ts'), '--logLevel', 'warn'],
    { cwd: root, env: { ...process.env, NODE_ENV: 'production' } },
  )
  writeFileSync(STAMP, hash)
  progress(`dashboard built in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  return true
}

function sourcesHash(): string {
  const hash = createHash('sha256')
  const files = [join(root, 'package-lock.json'), ...listFiles(WEB_SOURCES)]
  for (const file of files.sort()) {
    hash.update(relative(root, file)).update('\0').update(readFileSync(file)).update('\0')
  }
  return hash.digest('hex')
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    return entry.isDirectory() ? listFiles(path) : [path]
  })
}
