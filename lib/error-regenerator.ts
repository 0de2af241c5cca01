/**
 * Errors thrown on another node arrive as plain objects; Moleculer rebuilds its own classes from their
 * `name` and would turn ours into a plain MoleculerError. This regenerator rebuilds every class of
 * lib/errors.ts too, so `err instanceof ConflictError` (or NotFoundError, …) holds whichever node threw
 * it: the one way services check a failure (README: "Conventions every service follows").
 */
import { Errors } from "moleculer";
import * as platformErrors from "./errors";

// Keyed by the name an instance carries, which is its class name (a few classes answer with
// moleculer-web's names on purpose, e.g. ServiceUnavailableError: those stay Moleculer's to rebuild).
const classes = new Map<string, { prototype: Error }>(Object.entries(platformErrors));

export class PlatformErrorRegenerator extends Errors.Regenerator {
	override restoreCustomError(plain: Errors.PlainMoleculerError): Error {
		const Class = classes.get(plain.name);
		// undefined hands the error back to Moleculer's own classes (the typings say Error, the code checks for falsy)
		if (!Class) return undefined as never;
		const err = Object.create(Class.prototype) as Errors.MoleculerError;
		return Object.assign(err, {
			name: plain.name,
			message: plain.message,
			code: plain.code,
			type: plain.type,
			data: plain.data,
			retryable: plain.retryable,
		});
	}
}
