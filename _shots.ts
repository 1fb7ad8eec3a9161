import puppeteer from "puppeteer-core";
const [html, prefix] = Deno.args;
const browser = await puppeteer.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"] });
const page = await browser.newPage();
await page.setViewport({ width: 1000, height: 800 });
await page.goto("file://" + html, { waitUntil: "load" });
const charts = await page.$$("div.jp-RenderedHTMLCommon > svg, .output_html > svg, div.jp-OutputArea-output svg[aria-label], svg.chart, .jp-RenderedHTML svg");
const seen = new Set();
let i = 0;
for (const el of await page.$$("svg")) {
  const box = await el.boundingBox();
  if (!box || box.width < 300 || box.height < 150) continue;
  const key = `${Math.round(box.x)},${Math.round(box.y)}`;
  if (seen.has(key)) continue;
  seen.add(key);
  await el.screenshot({ path: `${prefix}_${String(++i).padStart(2, "0")}.png` });
}
console.log(i, "charts");
await browser.close();
