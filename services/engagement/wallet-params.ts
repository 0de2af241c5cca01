/** Validation shared by the wallet actions. */
export const currencyParam = { type: "string", min: 1, max: 32, pattern: /^[a-z][a-z0-9_-]*$/ } as const;
/** a positive integer: fractions and negatives are 422 */
export const amountParam = { type: "number", integer: true, min: 1, max: 1_000_000_000_000, convert: false } as const;
export const reasonParam = { type: "string", min: 1, max: 200, trim: true } as const;
export const refParam = { type: "string", max: 128, optional: true, nullable: true } as const;
export const keyParam = { type: "string", min: 1, max: 128, optional: true } as const;
