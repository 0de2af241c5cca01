/**
 * Moleculer's NATS transporter with gap-free balanced subscriptions.
 *
 * With `disableBalancer`, NATS queue groups balance requests (`<ns>.REQB.<action>`) and grouped
 * events. Moleculer rebuilds those subscriptions every time this node broadcasts its info (a second
 * after start-up, after a reconnect, whenever a local service comes or goes) by unsubscribing ALL of
 * them and subscribing again. A request published in between reaches no subscriber, and one already
 * delivered to the old subscription is discarded by the client: its caller waits out the whole request
 * timeout (README, "Failover"). Here the subscriptions are reconciled instead: the ones still wanted are
 * kept, new ones are added before old ones are removed, so a node that keeps an action never stops
 * receiving its requests.
 *
 * It also learns of a dead node in milliseconds instead of at the heartbeat timeout. Every request is
 * published with a reply subject; NATS answers a message that no subscriber takes with a "no responders"
 * status on it. For a request sent to one node that means the node is gone (its connection closed and
 * its subscriptions with it): the node is dropped from the registry at once and every request pending
 * on it is rejected as retryable, so the Retry middleware resends it to a live node. For a balanced
 * request it means no node runs the action: the caller gets ServiceNotAvailable (503 with Retry-After)
 * instead of waiting for the timeout.
 */
import { Errors, Transporters, type ServiceBroker } from "moleculer";

interface Subscription {
	unsubscribe(): void;
}
interface NatsMsg {
	subject: string;
	headers?: { code: number };
}
interface NatsClient {
	flush(): Promise<void>;
	publish(subject: string, data: Uint8Array, opts?: { reply?: string }): void;
	subscribe(subject: string, opts: { callback(err: Error | null, msg: NatsMsg): void }): Subscription;
}
interface PendingRequest {
	nodeID: string | null;
	action: { name: string };
	reject(err: Error): void;
}
interface Packet {
	type: string;
	target?: string | null;
	payload: { id?: string; action?: string };
}
interface LocalService {
	name: string;
	actions?: Record<string, unknown>;
	events?: Record<string, { group?: string }>;
}

// Moleculer's typings declare the transporter's public surface only; these are the members used here.
interface NatsInternals {
	broker: ServiceBroker;
	prefix: string;
	nodeID: string;
	client: NatsClient | null;
	connect(): Promise<void>;
	subscriptions: Subscription[];
	hasBuiltInBalancer: boolean;
	subscribeBalancedRequest(action: string): Promise<void>;
	subscribeBalancedEvent(event: string, group: string): Promise<void>;
}

// The typings declare the transporter's public surface only; the members above are what this class extends.
const Base = Transporters.NATS as unknown as new (opts: object) => NatsInternals;

export class StableNatsTransporter extends Base {
	private balanced = new Map<string, Subscription>();
	private balancedClient: NatsClient | null = null;
	private noResponders?: string;
	private reconciling: Promise<void> = Promise.resolve();

	override async connect(): Promise<void> {
		await super.connect();
		// One subscription per node receives every "no responders" status, named by the request id.
		this.noResponders = `${this.prefix}.NR.${this.nodeID}`;
		this.client!.subscribe(`${this.noResponders}.*`, {
			callback: (_err, msg) => {
				if (msg.headers?.code === 503) this.nobodyTook(msg.subject.slice(this.noResponders!.length + 1));
			},
		});
	}

	send(topic: string, data: Uint8Array, meta?: { packet?: Packet }): Promise<void> {
		if (!this.client) return Promise.resolve();
		const packet = meta?.packet;
		// No peer may learn of a service (an INFO packet, also one answering a peer's DISCOVER) before this
		// node is in that service's queue groups: otherwise its first requests go nowhere.
		if (packet?.type === "INFO" && this.broker.options.disableBalancer)
			return this.makeBalancedSubscriptions().then(() => this.client?.publish(topic, data));
		const reply = packet?.type === "REQ" && packet.payload.id && this.noResponders ? `${this.noResponders}.${packet.payload.id}` : undefined;
		this.client.publish(topic, data, reply ? { reply } : undefined);
		return Promise.resolve();
	}

	/** No subscriber took request `id`: its node is gone, or no node runs its action. */
	private nobodyTook(id: string): void {
		// Moleculer's typings keep the transit's pending requests and the node catalog's `disconnected` private.
		const transit = this.broker.transit as unknown as
			{ pendingRequests: Map<string, PendingRequest>; removePendingRequest(id: string): void } | undefined;
		const req = transit?.pendingRequests.get(id);
		if (!req) return;
		if (req.nodeID) {
			const node = this.broker.registry.nodes.get(req.nodeID);
			this.broker.logger.warn(`Node '${req.nodeID}' no longer takes requests: dropping it now.`);
			// Rejects every request pending on that node with a retryable RequestRejectedError.
			if (node && !node.local)
				(this.broker.registry.nodes as unknown as { disconnected(id: string, unexpected: boolean): void }).disconnected(req.nodeID, true);
			if (transit!.pendingRequests.has(id)) {
				transit!.removePendingRequest(id);
				req.reject(new Errors.RequestRejectedError({ action: req.action.name, nodeID: req.nodeID }));
			}
			return;
		}
		transit!.removePendingRequest(id);
		req.reject(new Errors.ServiceNotAvailableError({ action: req.action.name }));
	}

	/** The wanted balanced subscriptions of this node, by a key naming topic and queue. */
	private wantedSubscriptions(): Map<string, () => Promise<void>> {
		const wanted = new Map<string, () => Promise<void>>();
		const services = Array.from(this.broker.getLocalNodeInfo().services) as LocalService[];
		for (const service of services) {
			for (const action of Object.keys(service.actions ?? {})) wanted.set(`REQB ${action}`, () => this.subscribeBalancedRequest(action));
			for (const [event, def] of Object.entries(service.events ?? {})) {
				const group = def.group || service.name;
				wanted.set(`EVENTB ${group} ${event}`, () => this.subscribeBalancedEvent(event, group));
			}
		}
		return wanted;
	}

	/** Reconciles the balanced subscriptions; calls are queued so two never interleave. */
	makeBalancedSubscriptions(): Promise<void> {
		const run = () => this.reconcileBalancedSubscriptions();
		this.reconciling = this.reconciling.then(run, run);
		return this.reconciling;
	}

	private async reconcileBalancedSubscriptions(): Promise<void> {
		if (!this.hasBuiltInBalancer || !this.client) return;
		// A new client (after a full reconnect by Moleculer) has none of the old subscriptions.
		if (this.balancedClient !== this.client) {
			this.balanced.clear();
			this.balancedClient = this.client;
		}
		const wanted = this.wantedSubscriptions();
		for (const [key, subscribe] of wanted) {
			if (this.balanced.has(key)) continue;
			await subscribe();
			// The base methods push the new subscription onto `subscriptions`; keep it under its key.
			this.balanced.set(key, this.subscriptions.pop()!);
		}
		for (const [key, sub] of this.balanced) {
			if (wanted.has(key)) continue;
			sub.unsubscribe();
			this.balanced.delete(key);
		}
		this.subscriptions = [...this.balanced.values()];
		await this.client.flush();
	}

	async unsubscribeFromBalancedCommands(): Promise<void> {
		for (const sub of this.balanced.values()) sub.unsubscribe();
		this.balanced.clear();
		this.subscriptions = [];
		await this.client?.flush();
	}
}
