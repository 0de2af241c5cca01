/**
 * Card numbers never enter the platform: only provider tokens do. A request holding anything shaped
 * like a card number (13–19 digits, spaces or dashes allowed, passing the Luhn check) is refused with
 * 422 before it is stored, and the error names the field, never the value (README, "Commerce domain").
 */
import { InvalidInputError } from "../../lib/errors";

const CANDIDATE = /(?:\d[ -]?){12,18}\d/g;

function luhn(digits: string): boolean {
	let sum = 0;
	for (let i = 0; i < digits.length; i++) {
		let d = digits.charCodeAt(digits.length - 1 - i) - 48;
		if (i % 2 === 1) {
			d *= 2;
			if (d > 9) d -= 9;
		}
		sum += d;
	}
	return sum % 10 === 0;
}

export function looksLikeCardNumber(text: string): boolean {
	for (const match of text.match(CANDIDATE) ?? []) {
		const digits = match.replace(/[ -]/g, "");
		if (digits.length >= 13 && digits.length <= 19 && luhn(digits)) return true;
	}
	return false;
}

/** The path of the first string in `value` shaped like a card number, if any (numbers are amounts). */
function findCardNumber(value: unknown, path: string, depth = 0): string | undefined {
	if (typeof value === "string") return looksLikeCardNumber(value) ? path : undefined;
	if (!value || typeof value !== "object" || depth > 8) return undefined;
	for (const [k, v] of Object.entries(value)) {
		const found = findCardNumber(v, path ? `${path}.${k}` : k, depth + 1);
		if (found) return found;
	}
	return undefined;
}

/** 422 CARD_DATA_REFUSED-style validation error naming the field when the params carry a card number. */
export function refuseCardData(params: unknown): void {
	const field = findCardNumber(params, "");
	if (field)
		throw new InvalidInputError("Card numbers are not accepted: send a provider token (pm_…, a PayPal vault id).", [
			{ field, message: "looks like a card number; send a provider token instead" },
		]);
}
