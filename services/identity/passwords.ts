/**
 * Password hashing: scrypt (Node's built-in, run in libuv's thread pool) at OWASP's parameters
 * (N=2^17, r=8, p=1), stored self-describing as `scrypt$N$r$p$salt$hash` (base64url), compared in
 * constant time. Hashing is memory-hard (128 MiB each) and slow on purpose, so at most
 * HASH_CONCURRENCY run at once: a login flood waits in a short queue instead of starving the pool
 * (DNS, file I/O and other crypto share it); past the queue bound it is answered 503 OVERLOADED.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from "node:crypto";
import { OverloadedError } from "../../lib/errors";

export { OverloadedError };

export const OWASP_SCRYPT = { N: 1 << 17, r: 8, p: 1 } as const;
const KEY_LEN = 64;
const SALT_LEN = 16;
const MAX_MEM = 256 * 1024 * 1024;
export const HASH_CONCURRENCY = 2;
export const HASH_QUEUE_MAX = 16;

/** A counting semaphore with a bounded wait queue. */
export class Semaphore {
	private active = 0;
	private waiting: (() => void)[] = [];

	constructor(
		private readonly max: number,
		private readonly maxQueue: number,
	) {}

	get pending(): number {
		return this.waiting.length;
	}

	async run<T>(task: () => Promise<T>): Promise<T> {
		if (this.active >= this.max) {
			if (this.waiting.length >= this.maxQueue) throw new OverloadedError();
			await new Promise<void>(resolve => this.waiting.push(resolve));
		} else {
			this.active++;
		}
		try {
			return await task();
		} finally {
			// Hand the slot straight to the next waiter (active stays the same), or free it.
			const next = this.waiting.shift();
			if (next) next();
			else this.active--;
		}
	}
}

const gate = new Semaphore(HASH_CONCURRENCY, HASH_QUEUE_MAX);

function derive(password: string, salt: Buffer, opts: ScryptOptions): Promise<Buffer> {
	return gate.run(
		() =>
			new Promise<Buffer>((resolve, reject) =>
				scrypt(password.normalize("NFKC"), salt, KEY_LEN, { ...opts, maxmem: MAX_MEM }, (err, key) => (err ? reject(err) : resolve(key))),
			),
	);
}

export interface ScryptParams {
	N: number;
	r: number;
	p: number;
}

/** `scrypt$N$r$p$salt$hash` for the password, with a fresh 16-byte salt. */
export async function hashPassword(password: string, params: ScryptParams = OWASP_SCRYPT): Promise<string> {
	const salt = randomBytes(SALT_LEN);
	const key = await derive(password, salt, params);
	return ["scrypt", params.N, params.r, params.p, salt.toString("base64url"), key.toString("base64url")].join("$");
}

export function parseHash(stored: string): (ScryptParams & { salt: Buffer; key: Buffer }) | null {
	const parts = stored.split("$");
	if (parts.length !== 6 || parts[0] !== "scrypt") return null;
	const [N, r, p] = parts.slice(1, 4).map(Number);
	if (![N, r, p].every(n => Number.isSafeInteger(n) && n > 0) || (N & (N - 1)) !== 0) return null;
	const salt = Buffer.from(parts[4], "base64url");
	const key = Buffer.from(parts[5], "base64url");
	if (salt.length < SALT_LEN || key.length !== KEY_LEN) return null;
	return { N, r, p, salt, key };
}

/** True when the password matches the stored hash; false for a mismatch or a malformed hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
	const parsed = parseHash(stored);
	if (!parsed) return false;
	const key = await derive(password, parsed.salt, { N: parsed.N, r: parsed.r, p: parsed.p });
	return timingSafeEqual(key, parsed.key);
}

/** The rules a new password must meet; an empty list when it does. */
export function passwordProblems(password: string, email: string): { field: string; message: string }[] {
	const problems: { field: string; message: string }[] = [];
	if (password.length < 10) problems.push({ field: "password", message: "must be at least 10 characters long" });
	if (password.length > 256) problems.push({ field: "password", message: "must be at most 256 characters long" });
	const local = email.split("@")[0]?.toLowerCase() ?? "";
	if (local.length >= 3 && password.toLowerCase().includes(local))
		problems.push({ field: "password", message: "must not contain the email address or its name part" });
	return problems;
}
