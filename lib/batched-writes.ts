/**
 * Answers written in bursts: a response's `end` is held until the end of the event loop's current turn
 * (`setImmediate`), and every response ended during that turn is written then, one after the other.
 *
 * Why: each answer is one `write` to a client that, under load, is usually asleep waiting for it, and
 * the write wakes it (on a VM an inter-processor interrupt and a VM exit, paid in the server's system
 * time). Written in a burst, a client process is woken by the first answer and is still running when
 * the next ones arrive. Measured on the benchmark machine (bench/README.md, "Answers written in bursts"):
 * the system time per answer fell from 16 to 5 µs. The wait it adds is the rest of the current turn: the
 * other requests that arrived together; an answer alone is written as soon as its turn's I/O is done.
 *
 * While an end is held the response counts as sent (`headersSent`, `writableEnded`), as after Node's own
 * `end`: a late error handler sees an answered request and ends it without a body, which is then dropped.
 * README: "The gateway" → "Answers written in bursts".
 */
import { ServerResponse } from "node:http";

/** an answer waiting for the end of the turn, and the `end` that writes it (the base class') */
type Held = { res: ServerResponse; end: ServerResponse["end"]; chunk: any; encoding: any; callback: any };

let held: Held[] = [];

function writeHeld(): void {
	const batch = held;
	held = [];
	for (const h of batch) h.end.call(h.res, h.chunk, h.encoding, h.callback);
}

function getterOf(proto: object | null, name: string): () => boolean {
	for (; proto; proto = Object.getPrototypeOf(proto)) {
		const get = Object.getOwnPropertyDescriptor(proto, name)?.get;
		if (get) return get;
	}
	throw new Error(`no getter '${name}' on the response class`);
}

/** A `ServerResponse` class (http.createServer's option) whose answers are written at the end of the turn. */
export function batchedResponse<T extends typeof ServerResponse>(Base: T): T {
	const end = Base.prototype.end;
	// a class, not a per-request wrap of `end`: one shape for every response (see lib/compression.ts)
	class BatchedResponse extends (Base as typeof ServerResponse) {
		endHeld = false;

		override end(chunk?: any, encoding?: any, callback?: any): this {
			if (this.endHeld) {
				// an end after end: nothing more to write; a callback runs once the answer is out, as Node's would
				const cb = [chunk, encoding, callback].find(a => typeof a === "function");
				if (cb && this.writableFinished) process.nextTick(cb);
				else if (cb) this.once("finish", cb);
				return this;
			}
			this.endHeld = true;
			if (held.push({ res: this, end, chunk, encoding, callback }) === 1) setImmediate(writeHeld);
			return this;
		}
	}
	// Node defines both as getters on OutgoingMessage.prototype (its typings call them properties)
	for (const name of ["headersSent", "writableEnded"] as const) {
		const sent = getterOf(Base.prototype, name);
		Object.defineProperty(BatchedResponse.prototype, name, {
			get(this: BatchedResponse) {
				return this.endHeld || sent.call(this);
			},
			configurable: true,
		});
	}
	// TypeScript types a class extending `Base as typeof ServerResponse` as that, not as T: the subclass has
	// Base's constructor and instance type (it adds only `endHeld` and overrides `end`)
	return BatchedResponse as unknown as T;
}
