/**
 * Web Push on this device (README, "Platform: notifications" → "Web Push"): "Enable" asks the browser's
 * permission, registers the app's service worker (`/sw.js`, from web/public: it shows a push as a
 * notification and opens the app on a click), subscribes with the platform's VAPID public key
 * (`GET /api/notifications/push-subscriptions/key`) and sends the subscription
 * (`POST /api/notifications/push-subscriptions`); "Disable" removes it there (`DELETE …/:id`, found by its
 * endpoint) and unsubscribes the browser.
 */
import { useEffect, useState } from "preact/hooks";
import { ApiProblem, asProblem, del, get, post, type Page } from "../../api";
import { Notice, ProblemBanner } from "../../components/problem-banner";

type State = "checking" | "unsupported" | "off" | "on" | "denied";

const supported = () => "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;

/** The VAPID key (base64url) as the bytes `applicationServerKey` takes. */
export function keyBytes(base64url: string): Uint8Array {
	const b64 = base64url.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (base64url.length % 4)) % 4);
	return Uint8Array.from(atob(b64), c => c.charCodeAt(0));
}

async function currentSubscription(): Promise<PushSubscription | null> {
	const reg = await navigator.serviceWorker.getRegistration("/");
	return reg ? reg.pushManager.getSubscription() : null;
}

/** A browser's refusal (DOMException) said in words, like an API problem. */
function browserProblem(err: unknown): ApiProblem {
	if (err instanceof ApiProblem) return err;
	const detail = err instanceof Error ? err.message : String(err);
	return new ApiProblem({ status: 0, code: "PUSH_BROWSER_ERROR", title: "Push", detail: `This browser could not subscribe to push: ${detail}` });
}

export function PushControl() {
	const [state, setState] = useState<State>(supported() ? "checking" : "unsupported");
	const [busy, setBusy] = useState(false);
	const [problem, setProblem] = useState<ApiProblem | null>(null);
	const [notice, setNotice] = useState<string | null>(null);

	useEffect(() => {
		if (!supported()) return;
		if (Notification.permission === "denied") return setState("denied");
		currentSubscription().then(
			sub => setState(sub ? "on" : "off"),
			() => setState("off"),
		);
	}, []);

	async function run(fn: () => Promise<void>) {
		setBusy(true);
		setProblem(null);
		setNotice(null);
		try {
			await fn();
		} catch (e) {
			setProblem(e instanceof DOMException ? browserProblem(e) : asProblem(e));
		} finally {
			setBusy(false);
		}
	}

	const enable = () =>
		run(async () => {
			const permission = await Notification.requestPermission();
			if (permission !== "granted") {
				setState(permission === "denied" ? "denied" : "off");
				return;
			}
			const { publicKey } = await get<{ publicKey: string }>("/api/notifications/push-subscriptions/key");
			await navigator.serviceWorker.register("/sw.js", { scope: "/" });
			const reg = await navigator.serviceWorker.ready;
			// a subscription made with another key (the platform's keys changed) cannot be reused
			await (await reg.pushManager.getSubscription())?.unsubscribe();
			const sub = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(publicKey) as BufferSource });
			const json = sub.toJSON();
			try {
				await post("/api/notifications/push-subscriptions", {
					endpoint: json.endpoint,
					keys: { p256dh: json.keys?.p256dh, auth: json.keys?.auth },
				});
			} catch (e) {
				await sub.unsubscribe().catch(() => undefined);
				throw e;
			}
			setState("on");
			setNotice("Push is on for this device.");
		});

	const disable = () =>
		run(async () => {
			const sub = await currentSubscription();
			if (sub) {
				const mine = await get<Page<{ id: string; endpoint: string }>>("/api/notifications/push-subscriptions");
				const row = mine.rows.find(r => r.endpoint === sub.endpoint);
				if (row) await del(`/api/notifications/push-subscriptions/${encodeURIComponent(row.id)}`);
				await sub.unsubscribe();
			}
			setState("off");
			setNotice("Push is off for this device.");
		});

	return (
		<section class="panel" aria-labelledby="nt-push-heading">
			<h2 id="nt-push-heading">Push on this device</h2>
			<p class="nt-push-state" role="status">
				{state === "checking"
					? "Checking this browser…"
					: state === "unsupported"
						? "This browser cannot receive push notifications."
						: state === "denied"
							? "This browser blocks notifications from this site: allow them in the site settings, then enable push here."
							: state === "on"
								? "Push is enabled on this device."
								: "Push is not enabled on this device."}
			</p>
			<ProblemBanner problem={problem} />
			{notice ? <Notice kind="success">{notice}</Notice> : null}
			{state === "on" ? (
				<button type="button" class="secondary" disabled={busy} onClick={disable}>
					{busy ? "Disabling…" : "Disable push on this device"}
				</button>
			) : state === "off" || state === "denied" ? (
				<button type="button" disabled={busy} onClick={enable}>
					{busy ? "Enabling…" : "Enable push on this device"}
				</button>
			) : null}
			<p class="hint">Which categories may use push is chosen in the table above.</p>
		</section>
	);
}
