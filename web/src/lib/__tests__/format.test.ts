import { describe, expect, it } from "vitest";
import { elapsed, formatDuration, formatRelative } from "../format";

describe("formatDuration", () => {
  it.each([
    [0, "0 ms"],
    [850, "850 ms"],
    [1000, "1.0 s"],
    [12_345, "12.3 s"],
    [59_999, "59.9 s"],
    [60_000, "1m 00s"],
    [184_000, "3m 04s"],
    [3_720_000, "1h 02m"],
    [90_000_000, "1d 01h"],
  ])("reads %d ms as %s", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe("elapsed", () => {
  it("is null before the start, the span once ended, and runs to now meanwhile", () => {
    expect(elapsed(null, null)).toBeNull();
    expect(elapsed("2026-11-30T10:00:00Z", "2026-11-30T10:00:00.850Z")).toBe(850);
    const now = Date.parse("2026-11-30T10:00:05Z");
    expect(elapsed("2026-11-30T10:00:00Z", null, now)).toBe(5000);
  });
});

describe("formatRelative", () => {
  it("says how long ago, in the largest whole unit", () => {
    const now = Date.parse("2026-11-30T12:00:00Z");
    expect(formatRelative("2026-11-30T11:59:58Z", now)).toBe("just now");
    expect(formatRelative("2026-11-30T11:57:00Z", now)).toBe("3 min ago");
    expect(formatRelative("2026-11-30T09:00:00Z", now)).toBe("3 h ago");
    expect(formatRelative(null, now)).toBe("—");
  });
});
