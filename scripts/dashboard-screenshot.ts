// `npx tsx scripts/dashboard-screenshot.ts --token <JWT> [--url …] [--device sim-2] [--out …]`:
// the dashboard picture of docs/operations.md, taken from a running `npm run dev` (with `npm run simulate`
// feeding it) in the same headless Chromium the browser test uses.
import { parseArgs } from 'node:util'
import { openBrowser } from '../test/support/browser.ts'

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: 'http://127.0.0.1:4000/' },
    token: { type: 'string' },
    device: { type: 'string' },
    out: { type: 'string', default: 'docs/dashboard.png' },
  },
})
if (!values.token) throw new Error('--token is required (npm run dev prints a dev admin token)')

const browser = await openBrowser()
try {
  const { page } = browser
  await page.setViewportSize({ width: 1280, height: 800 })
  // Signed in from the start, as the dashboard keeps the token in localStorage.
  await page.addInitScript((token) => localStorage.setItem('devtwin.token', token), values.token)
  await page.goto(values.device ? `${values.url}#/devices/${values.device}` : values.url)
  // Wait for data, not for time: the device table (or the device's sensors) filled in.
  await page.locator('[data-sensor]').first().waitFor()
  await page.screenshot({ path: values.out })
  console.log(`wrote ${values.out}`)
} finally {
  await browser.close()
}
