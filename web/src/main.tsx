// The app's entry point (README, "Web app"): the styles, then the shell once the session is known.
import { render } from "preact";
import { App } from "./app";
import { reloadSession } from "./session";
import "./styles.css";

void reloadSession().catch(() => undefined);
render(<App />, document.getElementById("app")!);
