import { exponentOf, divRound, formatAmount, percentToPpm, checkAmount } from "../../services/commerce/money";
import { checkLines, invoiceTotals } from "../../services/commerce/invoice-math";
import { looksLikeCardNumber } from "../../services/commerce/card-data";

describe("commerce money", () => {
	it("takes ISO 4217 exponents from the table and refuses what is not a currency", () => {
		expect([exponentOf("JPY"), exponentOf("EUR"), exponentOf("KWD"), exponentOf("CLF")]).toEqual([0, 2, 3, 4]);
		for (const code of ["XAU", "XXX", "XTS", "EUX", "eur"]) expect(() => exponentOf(code)).toThrow(/ISO 4217/);
	});

	it("rounds half away from zero, once", () => {
		expect([5n, 15n, 25n, -5n, -15n, 4n, -4n].map(n => divRound(n, 10n))).toEqual([1n, 2n, 3n, -1n, -2n, 0n, -0n]);
		// three lines of 0.5 minor units of tax each: one rounding of 1.5 → 2, not 3 × round(0.5) = 3
		const lines = checkLines([1, 2, 3].map(() => ({ description: "x", quantity: 1, unitPrice: 5, taxRate: "10" })));
		expect(invoiceTotals(lines).tax).toBe(2);
	});

	it("stays exact where floats would not (BigInt products), and refuses results beyond the safe range", () => {
		const lines = checkLines([{ description: "big", quantity: 1_000_000, unitPrice: 9_007_199_254, taxRate: "0" }]);
		expect(invoiceTotals(lines).total).toBe(9_007_199_254_000_000);
		expect(() => invoiceTotals(checkLines([{ description: "too big", quantity: 1_000_000, unitPrice: 9_007_199_255 }]))).toThrow(/too large/);
		expect(invoiceTotals(checkLines([{ description: "x", quantity: 3, unitPrice: 3333, taxRate: "8.875" }]))).toEqual({
			subtotal: 9999,
			discount: 0,
			tax: 887,
			total: 10886,
		});
	});

	it("parses percentages exactly and formats amounts in their scale", () => {
		expect([percentToPpm("19", "r"), percentToPpm("8.875", "r"), percentToPpm("100", "r")]).toEqual([190_000, 88_750, 1_000_000]);
		for (const bad of ["101", "1.23456", "-1", "1e2", "0x10"]) expect(() => percentToPpm(bad, "r")).toThrow();
		expect([formatAmount(1234, "EUR"), formatAmount(5, "EUR"), formatAmount(1234, "JPY"), formatAmount(1234, "KWD")]).toEqual([
			"12.34",
			"0.05",
			"1234",
			"1.234",
		]);
		for (const bad of [1.5, "12", -1, 0, Number.MAX_SAFE_INTEGER + 1, NaN]) expect(() => checkAmount(bad)).toThrow();
	});

	it("recognises card numbers by length and Luhn, not every digit run", () => {
		expect(["4242424242424242", "4000 0566 5566 5556", "3782-822463-10005"].map(looksLikeCardNumber)).toEqual([true, true, true]);
		expect(["4242424242424241", "123456789012", "tok_1234567890123456", "order 2026-12-02"].map(looksLikeCardNumber)).toEqual([
			false,
			false,
			false,
			false,
		]);
	});
});
