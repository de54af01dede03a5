import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openBrowser } from '../support/browser.ts'
import { waitOnline } from '../support/commands.ts'
import { chargePoint, REGISTER, UPSERT_MODEL } from '../support/models.ts'
import { startTestStack, type TestStack } from '../support/stack.ts'

/** The dashboard in a real browser against the embedded stack, signed in as a person would. */
describe('dashboard in a browser', () => {
  let stack: TestStack
  let browser: Awaited<ReturnType<typeof openBrowser>>
  let page: Page
  const model = `cp-${Math.random().toString(36).slice(2, 8)}`

  beforeAll(async () => {
    ;[stack, browser] = await Promise.all([startTestStack('embedded'), openBrowser()])
    page = browser.page
    expect(
      (await stack.graphql(UPSERT_MODEL, { input: chargePoint(model) })).errors,
    ).toBeUndefined()
  })
  afterAll(async () => {
    await browser?.close()
    await stack?.close()
  })

  const send = (id: string, values: Record<string, unknown>) =>
    stack.publish(stack.topics.device(id, 'telemetry'), { ts: Date.now(), values })

  const signIn = async (token: string) => {
    await page.goto(stack.dashboardUrl ?? '')
    await page.evaluate(() => localStorage.clear())
    await page.reload()
    await page.getByLabel('Token').fill(token)
    await page.getByRole('button', { name: 'Sign in' }).click()
  }

  it('loads, and shows a published value within 2 s', async () => {
    const id = stack.deviceId('dash')
    await send(id, { temperature: 20 })
    await stack.applied(id, (reported) => reported.temperature === 20)

    await signIn(await stack.token('operator', 'olga'))
    await page.getByRole('heading', { name: 'Devices' }).waitFor()
    const value = page.locator(`tr[data-device-id="${id}"] [data-sensor="temperature"]`)
    await value.filter({ hasText: /^20$/ }).waitFor()
    // The fleet counts come from the server's grouped query.
    await page.getByTestId('fleet-counts').getByText('devices').waitFor()

    // A first change proves the row's subscription is live; the second is timed.
    await send(id, { temperature: 21 })
    await value.filter({ hasText: /^21$/ }).waitFor({ timeout: 15_000 })
    const published = Date.now()
    await send(id, { temperature: 22.5 })
    await value.filter({ hasText: /^22\.5$/ }).waitFor({ timeout: 2000 })
    const shownAfterMs = Date.now() - published
    console.log(`value on screen ${shownAfterMs} ms after the publish`)
    expect(shownAfterMs).toBeLessThan(2000)
  })

  it('shows an alert as it is raised, and acknowledges it', async () => {
    const id = stack.deviceId('dash-alert')
    expect(
      (await stack.graphql(REGISTER, { input: { id, modelId: model } })).errors,
    ).toBeUndefined()
    await signIn(await stack.token('operator', 'olga'))
    await page.getByRole('heading', { name: /Active alerts/ }).waitFor()

    // Above the model's 22 kW: OUT_OF_RANGE, pushed to the open page by the alerts subscription.
    await send(id, { door: true, power: 30_000 })
    const alert = page.getByTestId('alert').filter({ hasText: id })
    await alert.filter({ hasText: 'OUT_OF_RANGE' }).waitFor({ timeout: 20_000 })
    await alert.getByRole('button', { name: 'Acknowledge' }).click()
    await alert.filter({ hasText: 'acknowledged by olga' }).waitFor()

    const stored = await stack.graphql(
      'query ($id: ID!) { device(id: $id) { alerts(active: true) { kind acknowledgedBy } } }',
      { id },
    )
    expect(stored.data?.device.alerts).toEqual([{ kind: 'OUT_OF_RANGE', acknowledgedBy: 'olga' }])
  })

  it('does not let a viewer send a command, and shows the server refusing one', async () => {
    const id = stack.deviceId('dash-cmd')
    // Online and fresh, so that it can be reserved below.
    await stack.publish(stack.topics.device(id, 'status'), { online: true })
    await send(id, { temperature: 5 })
    await waitOnline(stack, id)

    await signIn(await stack.token('viewer', 'vera'))
    await page.goto(`${stack.dashboardUrl}#/devices/${id}`)
    const sendButton = page.getByRole('button', { name: 'Send command' })
    await sendButton.waitFor()
    expect(await sendButton.isDisabled()).toBe(true)
    await page.getByText('Sending commands needs the operator role.').waitFor()
    // The server is what refuses, whatever a page shows.
    const refused = await stack.graphql(
      'mutation ($id: ID!) { sendCommand(deviceId: $id, name: "reboot") { id } }',
      { id },
      `Bearer ${await stack.token('viewer', 'vera')}`,
    )
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN')

    // An operator may send, but a device held by someone else refuses it: the page says why.
    const reserved = await stack.graphql(
      'mutation ($id: ID!) { reserve(deviceId: $id, holder: "bench", durationSeconds: 600) { id } }',
      { id },
    )
    expect(reserved.errors).toBeUndefined()
    await signIn(await stack.token('operator', 'olga'))
    await page.goto(`${stack.dashboardUrl}#/devices/${id}`)
    await page.getByLabel('Command').fill('reboot')
    await page.getByRole('button', { name: 'Send command' }).click()
    await page.getByRole('alert').filter({ hasText: 'NOT_RESERVATION_HOLDER' }).waitFor()
  })
})
