import { useEffect, useState } from 'react'

/** Where the dashboard is: the fleet (#/) or one device (#/devices/{id}). */
export type Route = { page: 'fleet' } | { page: 'device'; deviceId: string }

export const deviceHref = (deviceId: string) => `#/devices/${encodeURIComponent(deviceId)}`

function parse(hash: string): Route {
  const match = /^#\/devices\/(.+)$/.exec(hash)
  return match?.[1] ? { page: 'device', deviceId: decodeURIComponent(match[1]) } : { page: 'fleet' }
}

/** Hash routing: the api serves one page, and links stay shareable. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parse(window.location.hash))
  useEffect(() => {
    const onChange = () => setRoute(parse(window.location.hash))
    window.addEventListener('hashchange', onChange)
    return () => window.removeEventListener('hashchange', onChange)
  }, [])
  return route
}
