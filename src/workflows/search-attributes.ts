import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common'

// devtwin's search attributes: operators filter twins by these in the Temporal UI.
export const DEVICE_ID = defineSearchAttributeKey('DeviceId', SearchAttributeType.KEYWORD)
export const DEVICE_MODEL = defineSearchAttributeKey('DeviceModel', SearchAttributeType.KEYWORD)
export const TWIN_HEALTH = defineSearchAttributeKey('TwinHealth', SearchAttributeType.KEYWORD)
export const TWIN_ONLINE = defineSearchAttributeKey('TwinOnline', SearchAttributeType.BOOL)
export const TWIN_RESERVED = defineSearchAttributeKey('TwinReserved', SearchAttributeType.BOOL)

/** Every key, for registering them with a Temporal server. */
export const SEARCH_ATTRIBUTE_KEYS = [
  DEVICE_ID,
  DEVICE_MODEL,
  TWIN_HEALTH,
  TWIN_ONLINE,
  TWIN_RESERVED,
] as const
