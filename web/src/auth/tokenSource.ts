/**
 * Where a bearer token comes from. The console holds no secret of its own: a person pastes a token, or,
 * on a development stack, picks a development identity that the console's own origin hands out at
 * `GET /dev/tokens` (`{"analyst": "<jwt>", …}`). Production serves no such endpoint, and then only pasting
 * (or a real sign-in, as another source) is offered.
 */
import { MalformedToken, isExpired, readPrincipal } from "./principal";

export interface TokenSource {
  readonly id: string;
  /** Roles to pick from; empty when this source offers none here (then it takes a token typed in). */
  roles(signal?: AbortSignal): Promise<string[]>;
  /** A token for `role` (one of `roles()`), or the `text` typed in for a source that takes one. */
  token(input: { role?: string; text?: string }): Promise<string>;
}

export class TokenRejected extends Error {
  constructor(readonly why: "malformed" | "expired" | "unknownRole" | "unavailable") {
    super(why);
  }
}

/** "Paste a token": checks that the text is a JWT that has not expired, nothing more. */
export class PastedTokenSource implements TokenSource {
  readonly id = "paste";

  async roles(): Promise<string[]> {
    return [];
  }

  async token({ text = "" }: { text?: string }): Promise<string> {
    const token = text.trim().replace(/^Bearer\s+/i, "");
    let principal;
    try {
      principal = readPrincipal(token);
    } catch (error) {
      if (error instanceof MalformedToken) throw new TokenRejected("malformed");
      throw error;
    }
    if (isExpired(principal)) throw new TokenRejected("expired");
    return token;
  }
}

/** "Development identities": the dev stack's tokens per role, from `GET /dev/tokens` on our origin. */
export class DevelopmentTokenSource implements TokenSource {
  readonly id = "development";
  private tokens: Record<string, string> | null = null;

  constructor(
    private readonly url = "/dev/tokens",
    private readonly fetcher: typeof fetch = (...args) => fetch(...args),
  ) {}

  async roles(signal?: AbortSignal): Promise<string[]> {
    this.tokens = await this.load(signal);
    return Object.keys(this.tokens);
  }

  async token({ role = "" }: { role?: string }): Promise<string> {
    const tokens = this.tokens ?? (this.tokens = await this.load());
    const token = tokens[role];
    if (!token) throw new TokenRejected("unknownRole");
    return token;
  }

  /** Whatever does not answer a JSON object of strings means "not offered here", never an error. */
  private async load(signal?: AbortSignal): Promise<Record<string, string>> {
    let body: unknown;
    try {
      const response = await this.fetcher(this.url, {
        signal,
        headers: { accept: "application/json" },
        cache: "no-store",
        credentials: "same-origin",
      });
      if (!response.ok || !(response.headers.get("content-type") ?? "").includes("json")) return {};
      body = await response.json();
    } catch (error) {
      if (signal?.aborted) throw error;
      return {};
    }
    if (typeof body !== "object" || body === null || Array.isArray(body)) return {};
    const tokens: Record<string, string> = {};
    for (const [role, token] of Object.entries(body)) {
      // The dev stack labels the partner token "partner (partner-dev)"; keep the role word only.
      if (typeof token === "string" && token.split(".").length === 3) tokens[role.split(" ")[0]] = token;
    }
    return tokens;
  }
}
