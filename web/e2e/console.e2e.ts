/**
 * The console in a real browser against the real stack: sign in with a development identity, submit one
 * application per country, watch scoring decide them live in a queue opened beforehand, read the reasons,
 * approve one under review, see a server-side validation error next to its field, switch to Spanish.
 * Screenshots of the main screens go to docs/screenshots/.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { SCENARIOS, type Scenario } from "./sandbox";

const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];

const consoleUrl = inject("consoleUrl");
const screenshotsDir = inject("screenshotsDir");

let browser: Browser;
let context: BrowserContext;
/** Where applications are submitted. */
let desk: Page;
/** A queue opened before anything is submitted, and never reloaded. */
let queue: Page;
const created = new Map<string, string>(); // country code → application name

async function screenshot(page: Page, name: string) {
  await front(page);
  mkdirSync(screenshotsDir, { recursive: true });
  await page.screenshot({ path: path.join(screenshotsDir, `${name}.png`), fullPage: true });
}

/** Headless Chromium throttles animation frames in background tabs, which slows every action there. */
async function front(page: Page): Promise<Page> {
  await page.bringToFront();
  return page;
}

function row(page: Page, name: string) {
  return page.locator(`tr[data-name="${name}"]`);
}

async function signIn(page: Page, role: "Analyst" | "Senior analyst") {
  await front(page);
  await page.goto(consoleUrl);
  await page.getByRole("button", { name: new RegExp(`^${role}`) }).click();
  await expect.poll(() => page.getByRole("heading", { name: "Applications" }).isVisible()).toBe(true);
}

async function submit(page: Page, scenario: Scenario, screenshotName?: string): Promise<string> {
  await front(page);
  await page.getByRole("link", { name: "New application", exact: true }).click();
  await page.getByRole("radio", { name: new RegExp(scenario.country) }).check();
  await page.getByLabel("Full name").fill(scenario.name);
  await page.getByLabel(scenario.documentLabel, { exact: true }).fill(scenario.document);
  await page.getByLabel(`Requested amount (${scenario.currency})`).fill(scenario.amount);
  await page.getByLabel(`Monthly income (${scenario.currency})`).fill(scenario.income);
  await page.getByLabel("Channel").selectOption({ label: "Website" });
  await page.getByLabel("Consent reference").fill(`e2e-${scenario.code}-${Date.now()}`);
  await page.getByLabel(/consents now/).check();
  if (screenshotName) await screenshot(page, screenshotName);
  await page.getByRole("button", { name: "Submit application" }).click();
  const heading = page.getByRole("heading", { name: "Application submitted" });
  await heading.waitFor({ timeout: 15_000 });
  const name = (await page.locator(".created code").textContent())?.trim() ?? "";
  expect(name).toMatch(/^applications\//);
  return name;
}

beforeAll(async () => {
  browser = await chromium.launch({ executablePath: inject("chromium"), args: CHROMIUM_ARGS });
  context = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: "en-GB", timezoneId: "Europe/Madrid" });
  context.setDefaultTimeout(20_000);
  desk = await context.newPage();
  queue = await context.newPage();
});

afterAll(async () => {
  await context?.close();
  await browser?.close();
});

describe("the analysts' console against the real stack", () => {
  it("signs in with a development identity", async () => {
    await queue.goto(consoleUrl);
    await queue.getByRole("heading", { name: "Development identities" }).waitFor();
    await screenshot(queue, "sign-in");
    await signIn(queue, "Analyst");
    await expect.poll(() => queue.locator("[data-watch-state]").getAttribute("data-watch-state")).toBe("live");
    // Marks this document: a reload would lose it.
    await queue.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));
    await signIn(desk, "Analyst");
  });

  it("submits one application per country and sees each decided live in the queue", async () => {
    for (const [index, scenario] of SCENARIOS.entries()) {
      created.set(scenario.code, await submit(desk, scenario, index === 3 ? "new-application" : undefined));
    }
    for (const scenario of SCENARIOS) {
      const name = created.get(scenario.code)!;
      await expect
        .poll(() => row(queue, name).locator("[data-status]").first().textContent(), { timeout: 30_000 })
        .toContain(scenario.status);
    }
    expect(await queue.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
    // Amounts in each application's own currency and locale.
    await expect.poll(() => row(queue, created.get("ES")!).textContent()).toMatch(/12\.000,00\s€/);
    await expect.poll(() => row(queue, created.get("MX")!).textContent()).toMatch(/\$90,000\.00/);
    await expect.poll(() => row(queue, created.get("BR")!).textContent()).toMatch(/R\$\s30\.000,00/);
    await screenshot(queue, "queue");
  });

  it("opens an application under review and reads every reason in plain words", async () => {
    const name = created.get("ES")!;
    await front(queue);
    await queue.locator(`tr[data-name="${name}"] a`).click();
    const decision = queue.getByRole("region", { name: "Decision" });
    await expect.poll(() => decision.textContent()).toContain("Review");
    const reasons = decision.getByRole("listitem");
    await expect.poll(() => reasons.count()).toBeGreaterThan(0);
    const codes = await reasons.evaluateAll((items) => items.map((item) => item.getAttribute("data-code")));
    expect(codes).toContain("BUREAU_NO_SCORE");
    const first = (await reasons.first().textContent()) ?? "";
    expect(first.length).toBeGreaterThan("BUREAU_NO_SCORE".length + 10); // a sentence, not just a code
    await expect.poll(() => queue.getByRole("region", { name: "Audit trail" }).locator("tr[data-sequence]").count()).toBeGreaterThanOrEqual(3);
    await expect.poll(() => queue.getByRole("region", { name: "Applicant" }).textContent()).toMatch(/\*+[0-9A-Z]{4}/);
    await screenshot(queue, "application-detail");
  });

  it("approves an application under review and sees the status change", async () => {
    await queue.getByRole("button", { name: "Approve" }).click();
    const dialog = queue.getByRole("dialog", { name: "Approve this application" });
    await dialog.getByLabel("Reason").fill("No bureau score; payslips and bank statements checked by hand.");
    await screenshot(queue, "approve-dialog");
    await dialog.getByRole("button", { name: "Approve" }).click();
    await expect.poll(() => queue.locator(".detail-status [data-status]").getAttribute("data-status")).toBe("APPROVED");
    await expect.poll(() => queue.getByRole("region", { name: "Audit trail" }).textContent()).toContain("payslips and bank statements");
    // The other tab's queue sees it too.
    await front(desk);
    await desk.getByRole("link", { name: "Queue", exact: true }).click();
    await expect
      .poll(() => row(desk, created.get("ES")!).locator("[data-status]").first().textContent(), { timeout: 15_000 })
      .toContain("Approved");
  });

  it("places a server-side validation error next to its field", async () => {
    await front(desk);
    await desk.getByRole("link", { name: "New application", exact: true }).click();
    await desk.getByRole("radio", { name: /Spain/ }).check();
    await desk.getByLabel("Full name").fill("Pablo Martín Díaz");
    // The right shape for a DNI, with the wrong check letter: only the server can tell.
    await desk.getByLabel("DNI / NIE", { exact: true }).fill("12345678A");
    await desk.getByLabel("Requested amount (EUR)").fill("12000");
    await desk.getByLabel("Monthly income (EUR)").fill("3200");
    await desk.getByLabel("Channel").selectOption({ label: "In person, at a branch" });
    await desk.getByLabel("Consent reference").fill("e2e-invalid");
    await desk.getByLabel(/consents now/).check();
    await desk.getByRole("button", { name: "Submit application" }).click();
    const document = desk.getByLabel("DNI / NIE", { exact: true });
    await expect.poll(() => document.getAttribute("aria-invalid")).toBe("true");
    const describedBy = (await document.getAttribute("aria-describedby")) ?? "";
    const errorId = describedBy.split(" ").find((id) => id.endsWith("-error"));
    expect(errorId).toBeTruthy();
    await expect.poll(() => desk.locator(`[id="${errorId}"]`).textContent()).toMatch(/not valid/);
    await screenshot(desk, "validation-error");
  });

  it("switches to Spanish", async () => {
    await front(desk);
    await desk.getByRole("link", { name: "Queue", exact: true }).click();
    await desk.getByLabel("Language").selectOption("es");
    await expect.poll(() => desk.getByRole("heading", { name: "Solicitudes" }).isVisible()).toBe(true);
    await expect.poll(() => row(desk, created.get("IT")!).locator("[data-status]").first().textContent()).toContain("Rechazada");
    expect(await desk.locator("html").getAttribute("lang")).toBe("es");
    expect(await desk.getByRole("link", { name: "Nueva solicitud" }).isVisible()).toBe(true);
    await screenshot(desk, "queue-es");
    // Remembered: a reload stays in Spanish.
    await desk.reload();
    await expect.poll(() => desk.getByRole("heading", { name: "Solicitudes" }).isVisible()).toBe(true);
  });
});
