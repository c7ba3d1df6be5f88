import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'

let session: Session | undefined

/** Starts the V8 CPU profiler in this process (after warm-up, so start-up is not in the profile). */
export async function startProfile(): Promise<void> {
  session = new Session()
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.start')
}

/** Stops the profiler and writes the profile as a .cpuprofile file. */
export async function stopProfile(file: string): Promise<void> {
  if (!session) throw new Error('profiler not started')
  const { profile } = await session.post('Profiler.stop')
  writeFileSync(file, JSON.stringify(profile))
  session.disconnect()
  session = undefined
}
