/** Params shared by the commerce services. */
export { idParam } from "../../lib/validation";
/** an amount in minor units: checked exactly by money.checkAmount (floats and strings are 422, never coerced) */
export const amountParam = { type: "any" } as const;
export const currencyParam = { type: "string", min: 3, max: 3 } as const;
export const textParam = (max: number) => ({ type: "string", max, optional: true, trim: true }) as const;
