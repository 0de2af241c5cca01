/**
 * Sign in, create an account, forgot and reset password, and the way back from a provider (README,
 * "Auth API" and "Sign in with a provider"). Errors are the API's problems, shown next to their fields.
 */
import { useEffect, useState } from "preact/hooks";
import { asProblem, get, post, type ApiProblem, type TokenResponse } from "../../api";
import { EmailField, Field, PasswordField } from "../../components/field";
import { Form } from "../../components/form";
import { Loading } from "../../components/loading";
import { Notice, ProblemBanner } from "../../components/problem-banner";
import { useAction, useApi } from "../../components/use-api";
import { HOME } from "../../nav";
import { href, navigate, type Route } from "../../router";
import { register, signedInWith, signIn } from "../../session";

const REASONS: Record<string, string> = {
	"session-ended": "Your session has ended. Sign in again.",
	unreachable: "The server could not be reached. Sign in again when it is back.",
};

// After a sign-in or registration the shell moves on by itself (to `next`, or the start page): see app.tsx.

export function SignIn({ route }: { route: Route }) {
	const [email, setEmail] = useState("");
	const [password, setPassword] = useState("");
	const action = useAction(signIn);
	const reason = route.query.get("reason");
	return (
		<>
			<h1>Sign in</h1>
			{reason && REASONS[reason] ? <Notice>{REASONS[reason]}</Notice> : null}
			<Form problem={action.problem} fields={["email", "password"]} onSubmit={() => action.run(email, password)} noValidate>
				<EmailField value={email} onInput={setEmail} autoComplete="username" />
				<PasswordField value={password} onInput={setPassword} autoComplete="current-password" />
				<button type="submit" disabled={action.busy}>
					{action.busy ? "Signing in…" : "Sign in"}
				</button>
			</Form>
			<Providers />
			<p class="aside">
				<a href={href("/forgot")}>Forgot your password?</a> · <a href={href("/register")}>Create an account</a>
			</p>
		</>
	);
}

export function Register(_: { route: Route }) {
	const [name, setName] = useState("");
	const [email, setEmail] = useState("");
	const [password, setPassword] = useState("");
	const action = useAction(register);
	return (
		<>
			<h1>Create an account</h1>
			<Form problem={action.problem} fields={["name", "email", "password"]} onSubmit={() => action.run(name, email, password)} noValidate>
				<Field label="Name" name="name" value={name} onInput={setName} autoComplete="name" required maxLength={100} />
				<EmailField value={email} onInput={setEmail} autoComplete="email" />
				<PasswordField
					value={password}
					onInput={setPassword}
					autoComplete="new-password"
					hint="At least 10 characters, without the name part of your e-mail."
				/>
				<button type="submit" disabled={action.busy}>
					{action.busy ? "Creating your account…" : "Create account"}
				</button>
			</Form>
			<p class="aside">
				Have an account? <a href={href("/signin")}>Sign in</a>
			</p>
		</>
	);
}

export function ForgotPassword(_: { route: Route }) {
	const [email, setEmail] = useState("");
	const [sent, setSent] = useState(false);
	const action = useAction((address: string) => post("/api/auth/password/forgot", { email: address }, { auth: false }));
	return (
		<>
			<h1>Forgot your password?</h1>
			{sent ? (
				<Notice kind="success">
					If {email} has an account, an e-mail with a link to choose a new password is on its way. The link works for one hour.
				</Notice>
			) : (
				<Form
					problem={action.problem}
					fields={["email"]}
					head={<p>We will send you a link to choose a new password.</p>}
					onSubmit={async () => (await action.run(email)).ok && setSent(true)}
					noValidate
				>
					<EmailField value={email} onInput={setEmail} autoComplete="email" />
					<button type="submit" disabled={action.busy}>
						Send the link
					</button>
				</Form>
			)}
			<p class="aside">
				<a href={href("/signin")}>Back to sign in</a>
			</p>
		</>
	);
}

export function ResetPassword({ route }: { route: Route }) {
	// kept in memory, and taken out of the address bar and the history at once (the link works once anyway)
	const [token] = useState(() => route.query.get("token") ?? "");
	useEffect(() => {
		if (window.location.pathname === "/reset-password" || route.query.has("token")) window.history.replaceState(null, "", "/#/reset");
	}, []);
	const [password, setPassword] = useState("");
	const [done, setDone] = useState(false);
	const action = useAction((pw: string) => post("/api/auth/password/reset", { token, password: pw }, { auth: false }));
	return (
		<>
			<h1>Choose a new password</h1>
			{done ? (
				<Notice kind="success">
					Your password is changed and every session was signed out. <a href={href("/signin")}>Sign in</a> with the new one.
				</Notice>
			) : !token ? (
				<p>This link has no reset token. Open the link from the e-mail again, or ask for a new one.</p>
			) : (
				<Form
					problem={action.problem}
					fields={["password"]}
					banner={action.problem?.code === "INVALID_RESET_TOKEN" ? null : action.problem}
					onSubmit={async () => (await action.run(password)).ok && setDone(true)}
					noValidate
				>
					{action.problem?.code === "INVALID_RESET_TOKEN" ? (
						<div class="banner banner-error" role="alert">
							This link was used already or has expired. <a href={href("/forgot")}>Ask for a new one</a>.
						</div>
					) : null}
					<PasswordField label="New password" value={password} onInput={setPassword} autoComplete="new-password" />
					<button type="submit" disabled={action.busy}>
						Set the password
					</button>
				</Form>
			)}
		</>
	);
}

/**
 * The providers configured on this platform (OAUTH_PROVIDERS, `GET /api/auth/oauth/providers`): each a link
 * to its `start`, a browser navigation, so that the flow cookie is set and the provider's redirect followed.
 */
function Providers() {
	const { data } = useApi(signal =>
		get<{ providers: { name: string; label: string }[] }>("/api/auth/oauth/providers", undefined, { auth: false, signal }),
	);
	if (!data?.providers.length) return null;
	return (
		<section class="providers" aria-labelledby="providers-title">
			<h2 id="providers-title">Or sign in with</h2>
			{data.providers.map(p => (
				<a class="button secondary" key={p.name} href={`/api/auth/oauth/${encodeURIComponent(p.name)}/start`}>
					{p.label}
				</a>
			))}
		</section>
	);
}

/**
 * Where the provider sends the browser back (`/api/auth/oauth/<name>/callback?code&state`, served as this
 * app for a browser's navigation): the same URL, called as an API, answers the token response.
 */
export function OAuthCallback({ route }: { route: Route }) {
	const [problem, setProblem] = useState<ApiProblem | null>(null);
	const [linked, setLinked] = useState(false);
	useEffect(() => {
		const provider = route.query.get("provider") ?? "";
		const query = new URLSearchParams(route.query);
		query.delete("provider");
		get<TokenResponse | { linked: unknown }>(`/api/auth/oauth/${encodeURIComponent(provider)}/callback?${query}`)
			.then(async r => {
				if ("linked" in r) setLinked(true);
				else {
					await signedInWith(r);
					navigate(HOME, { replace: true });
				}
			})
			.catch(e => setProblem(asProblem(e)));
	}, []);
	if (linked)
		return (
			<>
				<h1>Account linked</h1>
				<Notice kind="success">The provider account is linked: you can sign in with it from now on.</Notice>
				<p>
					<a href={href(HOME)}>Continue</a>
				</p>
			</>
		);
	if (problem)
		return (
			<>
				<h1>Sign-in did not work</h1>
				<ProblemBanner problem={problem} />
				<p>
					<a href={href("/signin")}>Back to sign in</a>
				</p>
			</>
		);
	return <Loading label="Signing you in…" />;
}
