import { describe, expect, it } from "vitest";
import { compareDecimal, formatMoney, parseAmount } from "./money";

describe("money", () => {
  it.each([
    ["1500", "1500"],
    ["1500.5", "1500.5"],
    ["1500,50", "1500.50"],
    [" 0012000 ", "12000"],
  ])("reads %j as %j", (text, amount) => expect(parseAmount(text)).toBe(amount));

  it.each(["", "1.500,00", "1e5", "-5", "12.345", "abc"])("refuses %j", (text) => expect(parseAmount(text)).toBeNull());

  it("compares decimals exactly, without floats", () => {
    expect(compareDecimal("50000.01", "50000.00")).toBeGreaterThan(0);
    expect(compareDecimal("50000", "50000.00")).toBe(0);
    expect(compareDecimal("999.99", "1000")).toBeLessThan(0);
    expect(compareDecimal("90071992547409931.01", "90071992547409931.00")).toBeGreaterThan(0);
  });

  it("formats in the application's locale, keeping cents a currency usually omits", () => {
    expect(formatMoney("12000.00", "EUR", "es-ES")).toMatch(/^12\.000,00\s€$/);
    expect(formatMoney("20000000.00", "COP", "es-CO")).toMatch(/^\$\s20\.000\.000$/);
    expect(formatMoney("20000000.50", "COP", "es-CO")).toMatch(/^\$\s20\.000\.000,50$/);
    expect(formatMoney("90000.00", "MXN", "es-MX")).toBe("$90,000.00");
  });
});
