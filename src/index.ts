/** The Homebridge entry point: registers the XG2G dynamic platform. */
import type { API } from 'homebridge';
import { XG2GPlatform } from './platform';
import { PLATFORM_NAME, PLUGIN_NAME } from './settings';

export = (api: API): void => {
  api.registerPlatform(PLUGIN_NAME, PLATFORM_NAME, XG2GPlatform);
};
