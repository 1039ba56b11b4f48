/** Tokens and dollars as agents report them, summed and written for people. */
import type { Usage } from "../api/types";

const count = new Intl.NumberFormat("en-US");

/** 12,345 */
export function formatCount(value: number): string {
  return count.format(value);
}

/** $0.42, or $0.0031 for less than a cent (and "<$0.0001" for less still). */
export function formatCost(usd: number): string {
  if (usd > 0 && usd < 0.0001) return "<$0.0001";
  return `$${usd.toFixed(usd > 0 && usd < 0.01 ? 4 : 2)}`;
}

/** The tokens a usage counts against a budget: input (cached included) and output. */
export function totalTokens(usage: Usage | null | undefined): number {
  if (!usage) return 0;
  return usage.input_tokens + usage.output_tokens;
}

/** The sum of some usages (null when there is none); the cost is known only if all are. */
export function sumUsage(usages: ReadonlyArray<Usage | null | undefined>): Usage | null {
  const known = usages.filter((usage): usage is Usage => usage != null);
  if (known.length === 0) return null;
  return known.reduce((sum, usage) => ({
    input_tokens: sum.input_tokens + usage.input_tokens,
    output_tokens: sum.output_tokens + usage.output_tokens,
    cached_input_tokens: sum.cached_input_tokens + usage.cached_input_tokens,
    cost_usd:
      sum.cost_usd === null || usage.cost_usd === null ? null : sum.cost_usd + usage.cost_usd,
  }));
}

/** "12,345 tokens · $0.42", or against a budget "12,345 / 50,000 tokens · $0.42". */
export function describeUsage(usage: Usage | null | undefined, budgetTokens?: number | null) {
  const used = formatCount(totalTokens(usage));
  const tokens = budgetTokens ? `${used} / ${formatCount(budgetTokens)} tokens` : `${used} tokens`;
  const cost = usage?.cost_usd;
  return cost === null || cost === undefined ? tokens : `${tokens} · ${formatCost(cost)}`;
}

/** The breakdown, for a title: "input 10,000 (8,000 cached) · output 2,345". */
export function usageBreakdown(usage: Usage | null | undefined): string {
  if (!usage) return "no tokens used yet";
  return (
    `input ${formatCount(usage.input_tokens)} (${formatCount(usage.cached_input_tokens)} cached)` +
    ` · output ${formatCount(usage.output_tokens)}`
  );
}

/** A token budget as typed: empty is none; otherwise a whole number of at least 1. */
export function parseBudget(text: string): { value: number | null; error?: string } {
  const trimmed = text.trim().replaceAll(",", "").replaceAll("_", "");
  if (trimmed === "") return { value: null };
  if (!/^\d+$/.test(trimmed)) return { value: null, error: "Must be a whole number of tokens" };
  const value = Number(trimmed);
  if (value < 1) return { value: null, error: "Must be at least 1" };
  if (!Number.isSafeInteger(value)) return { value: null, error: "Too large" };
  return { value };
}
