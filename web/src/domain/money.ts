/** Money as decimal strings, never floats: parsing what people type, comparing, formatting. */

/** A positive decimal with at most two fraction digits, as the API wants it; people may type a comma
 * for the decimal point. Null when the text is not such a number. */
export function parseAmount(text: string): string | null {
  const trimmed = text.trim().replace(/\s/g, "");
  // Accept "1500", "1500.5", "1500,50"; refuse grouping separators, signs and exponents.
  const match = /^(\d+)(?:[.,](\d{1,2}))?$/.exec(trimmed);
  if (!match) return null;
  const whole = match[1].replace(/^0+(?=\d)/, "");
  return match[2] === undefined ? whole : `${whole}.${match[2]}`;
}

/** Compares two non-negative decimal strings exactly: negative, zero or positive like a comparator. */
export function compareDecimal(a: string, b: string): number {
  const [aWhole, aFraction = ""] = a.split(".");
  const [bWhole, bFraction = ""] = b.split(".");
  const aw = aWhole.replace(/^0+(?=\d)/, "");
  const bw = bWhole.replace(/^0+(?=\d)/, "");
  if (aw.length !== bw.length) return aw.length - bw.length;
  if (aw !== bw) return aw < bw ? -1 : 1;
  const af = aFraction.padEnd(2, "0");
  const bf = bFraction.padEnd(2, "0");
  return af === bf ? 0 : af < bf ? -1 : 1;
}

/** `12000.00` EUR in es-ES → `12.000,00 €`. Intl formats decimal strings exactly (no float rounding).
 * A currency written without cents there (COP) keeps them when the amount has any. */
export function formatMoney(amount: string, currency: string, locale: string): string {
  if (!amount) return "—";
  const cents = /[1-9]/.test(amount.split(".")[1] ?? "");
  try {
    return new Intl.NumberFormat(locale, {
      style: "currency",
      currency,
      ...(cents ? { minimumFractionDigits: 2, maximumFractionDigits: 2 } : {}),
    }).format(amount as `${number}`);
  } catch {
    return `${amount} ${currency}`;
  }
}
