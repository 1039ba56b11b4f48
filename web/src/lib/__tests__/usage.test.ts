import { describe, expect, it } from "vitest";
import type { Usage } from "../../api/types";
import { describeUsage, formatCost, parseBudget, sumUsage, totalTokens } from "../usage";

const usage = (overrides: Partial<Usage> = {}): Usage => ({
  input_tokens: 10_000,
  output_tokens: 2_345,
  cached_input_tokens: 8_000,
  cost_usd: 0.42,
  ...overrides,
});

describe("usage", () => {
  it("counts input (cached included) and output tokens against a budget", () => {
    expect(totalTokens(usage())).toBe(12_345);
    expect(totalTokens(null)).toBe(0);
  });

  it("says the tokens, the budget when there is one, and the cost when it is known", () => {
    expect(describeUsage(usage(), 50_000)).toBe("12,345 / 50,000 tokens · $0.42");
    expect(describeUsage(usage({ cost_usd: null }))).toBe("12,345 tokens");
    expect(describeUsage(null, 50_000)).toBe("0 / 50,000 tokens");
  });

  it("shows costs under a cent with more digits", () => {
    expect(formatCost(0.0031)).toBe("$0.0031");
    expect(formatCost(0)).toBe("$0.00");
    expect(formatCost(1.5)).toBe("$1.50");
  });

  it("sums usages; the cost only when every one is known", () => {
    expect(sumUsage([usage(), null, usage({ cost_usd: 0.08 })])).toEqual({
      input_tokens: 20_000,
      output_tokens: 4_690,
      cached_input_tokens: 16_000,
      cost_usd: 0.5,
    });
    expect(sumUsage([usage(), usage({ cost_usd: null })])?.cost_usd).toBeNull();
    expect(sumUsage([null, undefined])).toBeNull();
  });

  it("reads a typed budget: empty is none, otherwise a whole number of at least 1", () => {
    expect(parseBudget("")).toEqual({ value: null });
    expect(parseBudget(" 50,000 ")).toEqual({ value: 50_000 });
    expect(parseBudget("0").error).toBe("Must be at least 1");
    expect(parseBudget("1.5").error).toBe("Must be a whole number of tokens");
    expect(parseBudget("-3").error).toBe("Must be a whole number of tokens");
    expect(parseBudget("lots").value).toBeNull();
  });
});
