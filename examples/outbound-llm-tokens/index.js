// Outbound shaping: an LLM provider allows 60,000 tokens per minute. Each call is charged its
// estimated tokens before it runs, waits for room instead of failing, and gives back what it
// did not use. The "provider" here is a local stand-in so the example runs offline.
import { createLimiter } from '@tollgate/core'

const tokensPerMinute = Number(process.env.TPM ?? 60_000)
const limiter = createLimiter({
  limit: tokensPerMinute,
  window: '1m',
  quotaUnit: 'tokens',
  // Start with 20 % of the budget available at once, then a steady flow.
  burst: Math.floor(tokensPerMinute / 5),
})

/** A stand-in for an LLM client: answers after 50 ms and reports the tokens it really used. */
async function fakeCompletion(prompt, maxTokens) {
  await new Promise((resolve) => setTimeout(resolve, 50))
  const used = Math.min(maxTokens, prompt.length * 80)
  return { text: `echo: ${prompt}`, usage: { totalTokens: used } }
}

const complete = limiter.wrap(fakeCompletion, {
  key: 'provider',
  weight: (_prompt, maxTokens) => maxTokens,
  maxDelay: '2m',
})

const started = Date.now()
const prompts = ['hi', 'a much longer question that uses every token it asked for', 'ok', 'thanks', 'bye']
for (const prompt of prompts) {
  const estimate = 4_000
  const result = await complete(prompt, estimate)
  // Give back what the call did not use, so the next call starts sooner.
  const unused = estimate - result.usage.totalTokens
  if (unused > 0) limiter.refund('provider', unused)
  const at = ((Date.now() - started) / 1000).toFixed(1)
  console.log(`${at.padStart(5)} s  ${JSON.stringify(prompt)}: ${result.usage.totalTokens} tokens`)
}
console.log(`remaining now: ${limiter.peek('provider').remaining} tokens`)
await limiter.close()
