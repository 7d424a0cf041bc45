/**
 * The bureau's sandbox identities (services/bureau-gateway/README.md, `python -m bureau_gateway sandbox`)
 * and each country's typical application, for which those identities give a known decision.
 */
export type Outcome = "approve" | "review" | "reject";

export interface Scenario {
  country: "Spain" | "Portugal" | "Italy" | "Mexico" | "Colombia" | "Brazil";
  code: "ES" | "PT" | "IT" | "MX" | "CO" | "BR";
  documentLabel: string;
  document: string;
  currency: string;
  amount: string;
  income: string;
  outcome: Outcome;
  /** The status the decision leads to, as the console says it in English. */
  status: "Approved" | "Under review" | "Rejected";
  name: string;
}

const STATUS = { approve: "Approved", review: "Under review", reject: "Rejected" } as const;

function scenario(init: Omit<Scenario, "status">): Scenario {
  return { ...init, status: STATUS[init.outcome] };
}

/** One application per country, each decision twice. */
export const SCENARIOS: readonly Scenario[] = [
  scenario({ country: "Spain", code: "ES", documentLabel: "DNI / NIE", document: "70000002P", currency: "EUR", amount: "12000", income: "3200", outcome: "review", name: "Lucía Fernández Ruiz" }),
  scenario({ country: "Portugal", code: "PT", documentLabel: "NIF", document: "100000010", currency: "EUR", amount: "8000", income: "1800", outcome: "approve", name: "João Silva Santos" }),
  scenario({ country: "Italy", code: "IT", documentLabel: "Codice Fiscale", document: "SNDRJT80A01H501Z", currency: "EUR", amount: "15000", income: "2600", outcome: "reject", name: "Marco Rossi Bianchi" }),
  scenario({ country: "Mexico", code: "MX", documentLabel: "CURP", document: "SARV850101MDFNNV03", currency: "MXN", amount: "90000", income: "25000", outcome: "review", name: "Valeria Hernández Ramos" }),
  scenario({ country: "Colombia", code: "CO", documentLabel: "Cédula de ciudadanía", document: "7000000001", currency: "COP", amount: "20000000", income: "6000000", outcome: "approve", name: "Andrés Gómez Restrepo" }),
  scenario({ country: "Brazil", code: "BR", documentLabel: "CPF", document: "700.000.003-10", currency: "BRL", amount: "30000", income: "8000", outcome: "reject", name: "Beatriz Souza Lima" }),
];
