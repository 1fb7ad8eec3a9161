/**
 * What every chart builder shares: the title/size options, Plot's base options and small text
 * helpers for ticks and legends. Private to charts/: mod.ts re-exports only the options.
 *
 * @module
 */
import type * as Plot from "@observablehq/plot";
import { formatValue } from "./frame.ts";

/** Title, subtitle, caption and size, shared by every chart builder. */
export interface ChartOptions {
  /** Bold title above the chart; `""` for none. */
  title?: string;
  /** One or two lines under the title. */
  subtitle?: string;
  /** Small text under the chart. */
  caption?: string;
  /** Width of the plotting area with its axes, in pixels. */
  width?: number;
  /** Height of the plotting area with its axes, in pixels. */
  height?: number;
}

/** Plot options every chart shares: white background, readable text, no arrows in axis labels. */
export const BASE_PLOT_OPTIONS: Plot.PlotOptions = {
  style: { background: "white", color: "#222", overflow: "visible" },
  marginTop: 24,
  marginBottom: 40,
};

/** Tick format of log axes: plain decimals (`0.001`), not SI prefixes (`1m`). */
export const LOG_TICK_FORMAT = "~g";

/** Tick text of a category: numbers short (`0.001`, `1e-5`), anything else as is. */
export function formatTick(v: unknown): string {
  return typeof v === "number" ? formatValue(v) : String(v);
}

export function defaultYLabel(y: string): string {
  if (y === "loss") return "Loss (cross-entropy)";
  if (y === "accuracy") return "Accuracy (%)";
  return capitalize(y);
}

export function capitalize(text: string): string {
  return text ? text[0].toUpperCase() + text.slice(1) : text;
}

/** Legend text of a series: numbers get their key (`lr 0.01`), text stays as is. */
export function legendText(value: unknown, key: string): string {
  return typeof value === "number" ? `${key} ${formatValue(value)}` : String(value);
}

export function isFiniteNumber(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v);
}

/** The learning-rate axis: log scale, plain decimals (`0.001`, not `1m`), ticked at powers of ten. */
export function rateAxis(rates: readonly number[]): Plot.ScaleOptions {
  return {
    type: "log",
    label: "Learning rate (log scale)",
    tickFormat: "~g",
    ticks: decadeTicks(rates),
  };
}

/**
 * Ticks at the powers of ten that span `values` (positive ones), for a log learning-rate axis: Plot's
 * default 1-2-5 ticks overlap there (0.0001 and 0.0002 side by side).
 */
export function decadeTicks(values: readonly number[]): number[] {
  const positive = values.filter((v) => v > 0 && Number.isFinite(v));
  if (positive.length === 0) return [];
  const low = Math.floor(Math.log10(Math.min(...positive)) + 1e-9);
  const high = Math.ceil(Math.log10(Math.max(...positive)) - 1e-9);
  return Array.from({ length: high - low + 1 }, (_, i) => Number(`1e${low + i}`));
}
