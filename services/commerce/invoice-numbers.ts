/**
 * Gap-free invoice numbers per tenant and year (`INV-2026-000123`), shared by every commerce node:
 * one Redis script that hands each invoice the next number of its tenant and year, and hands the SAME
 * number again when that invoice asks twice (a retried or racing finalisation), so a number is never
 * skipped and never given twice. Redis keeps these counters for good (no TTL): it must persist (AOF)
 * where invoices are issued. Without Redis (embedded mode, one process) the service takes the number
 * from its own store under a per-tenant lock (README, "Commerce domain").
 */
import type { Redis } from "ioredis";

const NEXT = `
local n = redis.call('HGET', KEYS[2], ARGV[1])
if n then return tonumber(n) end
n = redis.call('INCR', KEYS[1])
redis.call('HSET', KEYS[2], ARGV[1], n)
return n`;

export class RedisInvoiceNumbers {
	constructor(
		private readonly redis: Redis,
		private readonly namespace: string,
	) {}

	/** The number of this invoice: the next one of its tenant and year, or the one it already got. */
	async next(tenantId: string, year: number, invoiceId: string): Promise<number> {
		const base = `${this.namespace}:invoice-seq:${tenantId}:${year}`;
		return Number(await this.redis.eval(NEXT, 2, base, `${base}:owners`, invoiceId));
	}
}

export function formatInvoiceNumber(year: number, seq: number): string {
	return `INV-${year}-${String(seq).padStart(6, "0")}`;
}
