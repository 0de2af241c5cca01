/**
 * Commerce journeys in Chromium (README, "Web app" → "Commerce screens"): an invoice's PDF is fetched with
 * the token and opened and saved from a blob URL; from the invoice to its payment, a refund larger than
 * what is left is refused next to the amount, a partial refund (typed with the keyboard only) shows on the
 * payment; axe on every screen.
 */
import fs from "node:fs";
import { describeBrowser, useBrowser } from "../helpers/browser";
import { chooseTenant, menu, registerUser, signIn, tabTo, openWithKeyboard } from "../helpers/browser-journeys";

jest.setTimeout(90_000);

describeBrowser("web app: commerce journeys", () => {
	const b = useBrowser({ services: ["identity", "commerce"], env: { PASSWORD_SCRYPT_N: "1024", PAYMENTS_PROVIDER: "sandbox" } });

	it("opens an invoice's PDF and refunds part of its payment", async () => {
		const p = b.platform();
		const ada = await registerUser(b, "Ada Lovelace", "ada@example.com");
		const tenant = (await p.http("POST", "/api/tenants", { token: ada.accessToken, body: { name: "Engines Ltd", slug: "engines" } })).body;
		const token = (await p.http("POST", "/api/auth/switch-tenant", { token: ada.accessToken, body: { tenantId: tenant.id } })).body.accessToken;
		const page = await b.page();
		await signIn(b, page, "ada@example.com");
		await chooseTenant(page, "Engines Ltd");

		// a draft made on the screen: a missing description is said next to it, a price the API refuses next to
		// the price (EUR has 2 decimals), then the draft is made and finalised
		await menu(page, "Invoices");
		await page.getByText("New invoice").click();
		await page.getByLabel("Customer").fill("Analytical Society");
		await page.getByLabel("Quantity").fill("2");
		await page.getByLabel("Unit price (EUR)").fill("125.00");
		await page.getByLabel("Tax rate (%)").fill("19");
		await page.getByRole("button", { name: "Create draft" }).click();
		const described = page.getByLabel("Line 1: description");
		const describedError = page.locator(".field-invalid", { has: described }).locator(".field-error");
		expect(await describedError.textContent()).toBe("Say what this line is for.");
		expect(await described.getAttribute("aria-invalid")).toBe("true");
		await described.fill("Gear train");
		await page.getByLabel("Tax rate (%)").fill("19.123456");
		await page.getByRole("button", { name: "Create draft" }).click();
		const tax = page.getByLabel("Tax rate (%)");
		await page.locator(".field-invalid", { has: tax }).locator(".field-error").waitFor();
		// shown beside the field only, not again in the banner
		expect(await page.locator(".banner-error").textContent()).toBe("Please correct the fields marked below.");
		await b.screenshot(page, "commerce-new-invoice-error");
		expect(await b.axe(page)).toEqual([]);
		await tax.fill("19");
		await page.getByRole("button", { name: "Create draft" }).click();
		await page.getByRole("heading", { name: /^Invoice Draft of/ }).waitFor();
		await page.getByRole("button", { name: "Finalize" }).click();
		await page.getByText("The invoice is final and numbered.").waitFor();
		const invoice = (await p.http("GET", "/api/commerce/invoices", { token })).body.rows[0];
		expect(invoice).toMatchObject({ status: "open", total: 29750, customerName: "Analytical Society" });
		await page.getByRole("heading", { name: `Invoice ${invoice.number}` }).waitFor();

		// it is paid (a payment over the API: the app makes no charges) and paid invoices show so
		const payment = await p.http("POST", "/api/commerce/payments", {
			token,
			headers: { "idempotency-key": "pay-invoice-1" },
			body: {
				amount: 29750,
				currency: "EUR",
				paymentMethod: "pm_sandbox_visa",
				invoiceId: invoice.id,
				description: `Invoice ${invoice.number}`,
			},
		});
		expect(payment.body.status).toBe("captured");
		expect((await p.http("POST", `/api/commerce/invoices/${invoice.id}/pay`, { token, body: { paymentId: payment.body.id } })).status).toBe(200);

		await menu(page, "Invoices");
		const list = page.getByRole("table", { name: /Invoices/ });
		await list.getByRole("row", { name: new RegExp(`${invoice.number} Analytical Society Paid`) }).waitFor();
		await b.screenshot(page, "commerce-invoices");
		expect(await b.axe(page)).toEqual([]);

		await list.getByRole("link", { name: invoice.number }).click();
		await page.getByRole("heading", { name: `Invoice ${invoice.number}` }).waitFor();
		expect(await page.locator('[data-field="total"]').textContent()).toBe("€297.50");
		await b.screenshot(page, "commerce-invoice");
		expect(await b.axe(page)).toEqual([]);

		// the PDF: saved (a download of the blob) and opened in a new tab (a blob: URL of this origin)
		const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download PDF" }).click()]);
		expect(download.suggestedFilename()).toBe(`${invoice.number}.pdf`);
		const bytes = fs.readFileSync((await download.path())!);
		expect(bytes.subarray(0, 5).toString("latin1")).toBe("%PDF-");
		const [tab] = await Promise.all([page.context().waitForEvent("page"), page.getByRole("button", { name: "Open PDF" }).click()]);
		await tab.waitForLoadState();
		expect(tab.url()).toMatch(new RegExp(`^blob:${b.url("").replace(/[.]/g, "\\.")}/`));
		await tab.close();

		// to the payment, and a refund
		await page.getByRole("link", { name: "the payment" }).click();
		await page.getByRole("heading", { name: "Payment of €297.50" }).waitFor();
		await page.getByLabel("Amount (EUR)").fill("500");
		await page.getByRole("button", { name: "Refund", exact: true }).click();
		const amountError = page.locator(".field-invalid", { has: page.getByLabel("Amount (EUR)") }).locator(".field-error");
		await amountError.waitFor();
		expect(await amountError.textContent()).toBe("That is more than what is left to refund (€297.50).");
		expect(await page.getByLabel("Amount (EUR)").getAttribute("aria-invalid")).toBe("true");
		await b.screenshot(page, "commerce-refund-refused");
		expect(await b.axe(page)).toEqual([]);

		// a partial refund, typed with the keyboard only
		await page.getByLabel("Amount (EUR)").fill("");
		await page.locator("body").click({ position: { x: 5, y: 400 } });
		await tabTo(page, page.getByLabel("Amount (EUR)"));
		await page.keyboard.type("50.00");
		await page.keyboard.press("Tab");
		await page.keyboard.type("Damaged gear");
		await page.keyboard.press("Enter");
		await page.getByText("€50.00 is refunded.").waitFor();
		const refunds = page.getByRole("table", { name: "Refunds of this payment" });
		await refunds.getByRole("row", { name: /€50\.00 Refunded Damaged gear/ }).waitFor();
		expect(await page.locator('[data-field="status"]').textContent()).toBe("Partly refunded");
		expect(await page.locator('[data-field="refunded"]').textContent()).toBe("€50.00");
		await b.screenshot(page, "commerce-payment");
		expect(await b.axe(page)).toEqual([]);
		const stored = (await p.http("GET", `/api/commerce/payments/${payment.body.id}`, { token })).body;
		expect(stored).toMatchObject({ status: "partially_refunded", refundedAmount: 5000 });

		await menu(page, "Payments");
		await page
			.getByRole("table", { name: /Payments/ })
			.getByRole("row", { name: /Partly refunded €297\.50 €50\.00/ })
			.waitFor();
		await b.screenshot(page, "commerce-payments");
		expect(await b.axe(page)).toEqual([]);

		// an authorised payment (manual capture) is captured from its screen
		const held = await p.http("POST", "/api/commerce/payments", {
			token,
			headers: { "idempotency-key": "held-1" },
			body: { amount: 1200, currency: "EUR", paymentMethod: "pm_sandbox_visa", captureMethod: "manual", description: "Held deposit" },
		});
		expect(held.body.status).toBe("authorized");
		await page.goto(b.url(`/#/commerce/payments/${held.body.id}`));
		await page.getByRole("button", { name: "Capture €12.00" }).click();
		await page.getByText("The payment is captured.").waitFor();
		expect(await page.locator('[data-field="status"]').textContent()).toBe("Captured");
	});
	it("opens every screen of the domain from the menu with the keyboard only, focus on its content", async () => {
		const page = await b.page();
		await signIn(b, page, "ada@example.com");
		await chooseTenant(page, "Engines Ltd");
		await openWithKeyboard(page, "Invoices");
		await page.getByRole("heading", { level: 1, name: "Invoices", exact: true }).waitFor();
		expect(await b.axe(page)).toEqual([]);
		await openWithKeyboard(page, "Payments");
		await page.getByRole("heading", { level: 1, name: "Payments", exact: true }).waitFor();
		expect(await b.axe(page)).toEqual([]);
	});
});
