/**
 * Inbound webhooks (README, "Signing in with a provider, API clients and integrations"):
 * `POST /api/integrations/webhooks/:provider/:connectionId`. The signature is HMAC-SHA256 of the raw body
 * with the provider's `webhookSecret`, sent as `sha256=<hex>` (GitHub's X-Hub-Signature-256, or the header
 * the provider config names), compared in constant time. A bad one is 401 and nothing is stored. A good
 * one is stored once per delivery id (a repeat answers 200 `duplicate`), then processed through the
 * `integrations.webhooks` channel: retried, dead-lettered after its retries, replayable. An `issues`
 * event updates the task mirroring the issue (./issues-to-tasks.ts) before listeners hear of it.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { Ctx } from "../../../lib/context";
import { ConflictError, InvalidInputError, NotFoundError, UnknownIntegrationError, InvalidSignatureError } from "../../../lib/errors";
import { sendToChannel } from "../../platform/common";
import type { IntegrationsMethodsOf, ProviderIssue } from "./types";

export const WEBHOOK_CHANNEL = "integrations.webhooks";
/** what other services listen to, once per delivery */
export const WEBHOOK_EVENT = "integrations.webhookReceived";

export interface WebhookParams {
	provider: string;
	connectionId: string;
	/** the body exactly as sent, base64 (`rawBody: true`) */
	rawBody: string;
}

/** `sha256=<hex>` of the body, checked in constant time. */
export function signatureMatches(secret: string, body: Buffer, header: string | undefined): boolean {
	if (!header?.startsWith("sha256=")) return false;
	const expected = Buffer.from(`sha256=${createHmac("sha256", secret).update(body).digest("hex")}`);
	const given = Buffer.from(header);
	return given.length === expected.length && timingSafeEqual(given, expected);
}

export const webhookMethods: IntegrationsMethodsOf<"receiveWebhook" | "processWebhook" | "replayWebhook"> = {
	async receiveWebhook(ctx: Ctx<WebhookParams>) {
		const { provider, connectionId } = ctx.params;
		const cfg = this.providerConfigs.get(provider);
		if (!cfg?.webhookSecret) throw new UnknownIntegrationError(provider);
		const body = Buffer.from(ctx.params.rawBody, "base64");
		const headers = ctx.meta.headers ?? {};
		if (!signatureMatches(cfg.webhookSecret, body, headers[cfg.signatureHeader ?? "x-hub-signature-256"])) throw new InvalidSignatureError();
		const connection = await this.connections.findOne({ id: connectionId, provider });
		if (!connection) throw new NotFoundError("Not found.", connectionId);
		const deliveryId = headers[cfg.deliveryHeader ?? "x-github-delivery"];
		if (!deliveryId)
			throw new InvalidInputError("The delivery id header is missing.", [
				{ field: cfg.deliveryHeader ?? "x-github-delivery", message: "required" },
			]);
		let payload: unknown;
		try {
			payload = JSON.parse(body.toString("utf8"));
		} catch {
			throw new InvalidInputError("The webhook body is not JSON.", [{ field: "body", message: "must be JSON" }]);
		}
		try {
			const row = await this.deliveries.insert({
				provider,
				connectionId,
				userId: connection.userId,
				deliveryId,
				event: headers[cfg.eventHeader ?? "x-github-event"] ?? null,
				payload,
				status: "received",
				processedAt: null,
			});
			await sendToChannel(this.broker, WEBHOOK_CHANNEL, { id: row.id });
			ctx.meta.$statusCode = 202;
			return { accepted: true, id: row.id };
		} catch (err) {
			if (err instanceof ConflictError) return { accepted: true, duplicate: true };
			throw err;
		}
	},

	/** The channel consumer: once per stored delivery, tells listeners (a retry after a failure tells them again). */
	async processWebhook(id) {
		const row = await this.deliveries.findOne({ id });
		if (!row || row.status === "processed") return;
		const issue = row.event === "issues" ? (row.payload as { issue?: ProviderIssue } | null)?.issue : undefined;
		if (issue) {
			const connection = await this.connections.findOne({ id: row.connectionId });
			if (connection) await this.syncIssue(connection, issue);
		}
		await this.broker.emit(WEBHOOK_EVENT, {
			id: row.id,
			provider: row.provider,
			connectionId: row.connectionId,
			userId: row.userId,
			deliveryId: row.deliveryId,
			event: row.event,
			payload: row.payload,
		});
		await this.deliveries.update({ id: row.id }, { status: "processed", processedAt: new Date().toISOString() });
	},

	async replayWebhook(id) {
		const row = await this.deliveries.findOne({ id });
		if (!row) throw new NotFoundError("Not found.", id);
		await this.deliveries.update({ id }, { status: "received", processedAt: null });
		await sendToChannel(this.broker, WEBHOOK_CHANNEL, { id });
		return { replayed: true };
	},
};
