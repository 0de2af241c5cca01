/**
 * The providers this node can use, from configuration: the sandbox always (offline, deterministic),
 * Stripe when STRIPE_SECRET_KEY is set, PayPal when PAYPAL_CLIENT_ID and PAYPAL_CLIENT_SECRET are.
 * PAYMENTS_PROVIDER is the one a payment uses when it names none.
 */
import type { Config } from "../../../lib/config";
import { ConfigError } from "../../../lib/config";
import { InvalidInputError } from "../../../lib/errors";
import type { PaymentProvider } from "./provider";
import { PayPalProvider } from "./paypal";
import { SandboxProvider } from "./sandbox";
import { StripeProvider } from "./stripe";

export type ProviderName = "sandbox" | "stripe" | "paypal";
export const PROVIDER_NAMES: readonly ProviderName[] = ["sandbox", "stripe", "paypal"];

export class Providers {
	private readonly byName = new Map<string, PaymentProvider>();
	readonly defaultName: ProviderName;

	constructor(cfg: Config) {
		this.byName.set("sandbox", new SandboxProvider(cfg.SANDBOX_WEBHOOK_SECRET, cfg.WEBHOOK_TOLERANCE_S));
		const http = {
			timeoutMs: cfg.PROVIDER_TIMEOUT_MS,
			retries: cfg.PROVIDER_RETRIES,
			breakerThreshold: cfg.PROVIDER_BREAKER_THRESHOLD,
			breakerCooldownMs: cfg.PROVIDER_BREAKER_COOLDOWN_MS,
		};
		if (cfg.STRIPE_SECRET_KEY)
			this.byName.set(
				"stripe",
				new StripeProvider(
					{ ...http, baseUrl: cfg.STRIPE_API_URL },
					cfg.STRIPE_SECRET_KEY,
					cfg.STRIPE_WEBHOOK_SECRET,
					cfg.WEBHOOK_TOLERANCE_S,
				),
			);
		if (cfg.PAYPAL_CLIENT_ID && cfg.PAYPAL_CLIENT_SECRET)
			this.byName.set(
				"paypal",
				new PayPalProvider({ ...http, baseUrl: cfg.PAYPAL_API_URL }, cfg.PAYPAL_CLIENT_ID, cfg.PAYPAL_CLIENT_SECRET, cfg.PAYPAL_WEBHOOK_ID),
			);
		this.defaultName = cfg.PAYMENTS_PROVIDER;
		if (!this.byName.has(this.defaultName)) throw new ConfigError(`PAYMENTS_PROVIDER: '${this.defaultName}' is not configured (set its keys)`);
	}

	/** The provider by name (the default when none), or 422 for one this node has no keys for. */
	get(name?: string): PaymentProvider {
		const provider = this.byName.get(name ?? this.defaultName);
		if (!provider)
			throw new InvalidInputError("This payment provider is not configured.", [{ field: "provider", message: `'${name}' is not configured` }]);
		return provider;
	}
}
