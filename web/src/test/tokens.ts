/** Unsigned JWT-shaped tokens for tests: the console reads claims, the (fake) server checks nothing. */
function base64url(text: string): string {
  return btoa(String.fromCharCode(...new TextEncoder().encode(text)))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

export function testToken(role: string, claims: Record<string, unknown> = {}): string {
  const header = base64url(JSON.stringify({ alg: "ES256", typ: "JWT" }));
  const payload = base64url(
    JSON.stringify({
      sub: `dev-${role.replace("_", "-")}`,
      roles: [role],
      exp: Math.floor(Date.now() / 1000) + 3600,
      ...(role === "partner" ? { partner_id: "partner-dev" } : {}),
      ...claims,
    }),
  );
  return `${header}.${payload}.c2lnbmF0dXJl`;
}
