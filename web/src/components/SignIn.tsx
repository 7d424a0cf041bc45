/** Sign-in: a development identity when the stack offers them, or a pasted bearer token. */
import { useEffect, useId, useState, type FormEvent } from "react";
import { useSession } from "../auth/session";
import { TokenRejected, type TokenSource } from "../auth/tokenSource";
import { useI18n } from "../i18n/I18nProvider";
import { roleKey } from "./Header";
import { LanguageSelect } from "./LanguageSelect";

export function SignIn({ sources }: { sources: readonly TokenSource[] }) {
  const { t } = useI18n();
  const { endReason } = useSession();
  return (
    <main className="signin" id="main">
      <div className="signin-panel">
        <div className="signin-top">
          <div className="brand">
            <span className="brand-mark" aria-hidden="true">
              GC
            </span>
            <span className="brand-name">{t("app.title")}</span>
          </div>
          <LanguageSelect />
        </div>
        <h1>{t("signIn.title")}</h1>
        {endReason && endReason !== "signedOut" && (
          <p className="notice notice-warning" role="alert">
            {t(endReason === "expired" ? "signIn.ended.expired" : "signIn.ended.rejected")}
          </p>
        )}
        {sources.map((source) =>
          source.id === "paste" ? (
            <PasteToken key={source.id} source={source} />
          ) : (
            <RolePicker key={source.id} source={source} />
          ),
        )}
      </div>
    </main>
  );
}

function RolePicker({ source }: { source: TokenSource }) {
  const { t } = useI18n();
  const { signIn } = useSession();
  const [roles, setRoles] = useState<string[] | null>(null);
  const [failed, setFailed] = useState(false);

  useEffect(() => {
    const controller = new AbortController();
    source.roles(controller.signal).then(setRoles, () => setRoles([]));
    return () => controller.abort();
  }, [source]);

  if (roles === null) return <p className="muted">{t("signIn.dev.loading")}</p>;
  if (roles.length === 0) return null;
  return (
    <section aria-labelledby="dev-identities" className="signin-section">
      <h2 id="dev-identities">{t("signIn.dev.title")}</h2>
      <p className="hint">{t("signIn.dev.help")}</p>
      <div className="role-grid">
        {roles.map((role) => (
          <button
            key={role}
            type="button"
            className="button role-button"
            data-role={role}
            onClick={() =>
              source.token({ role }).then(signIn, () => {
                setFailed(true);
              })
            }
          >
            <span className="role-name">{t(roleKey(role))}</span>
            <span className="role-help">{t(`${roleKey(role)}.help`)}</span>
          </button>
        ))}
      </div>
      {failed && (
        <p className="field-error" role="alert">
          {t("signIn.dev.failed")}
        </p>
      )}
    </section>
  );
}

function PasteToken({ source }: { source: TokenSource }) {
  const { t } = useI18n();
  const { signIn } = useSession();
  const id = useId();
  const [text, setText] = useState("");
  const [error, setError] = useState<string | null>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    try {
      signIn(await source.token({ text }));
    } catch (rejected) {
      const why = rejected instanceof TokenRejected ? rejected.why : "malformed";
      setError(t(why === "expired" ? "signIn.paste.expired" : "signIn.paste.malformed"));
    }
  }

  return (
    <section aria-labelledby={`${id}-title`} className="signin-section">
      <h2 id={`${id}-title`}>{t("signIn.paste.title")}</h2>
      <form onSubmit={submit} noValidate>
        <div className="field">
          <label htmlFor={`${id}-token`}>{t("signIn.paste.label")}</label>
          <textarea
            id={`${id}-token`}
            rows={4}
            value={text}
            spellCheck={false}
            autoComplete="off"
            aria-invalid={error ? true : undefined}
            aria-describedby={`${id}-hint${error ? ` ${id}-error` : ""}`}
            onChange={(event) => {
              setText(event.target.value);
              setError(null);
            }}
          />
          <p className="hint" id={`${id}-hint`}>
            {t("signIn.paste.hint")}
          </p>
          {error && (
            <p className="field-error" id={`${id}-error`} role="alert">
              {error}
            </p>
          )}
        </div>
        <button type="submit" className="button primary">
          {t("signIn.paste.submit")}
        </button>
      </form>
    </section>
  );
}
