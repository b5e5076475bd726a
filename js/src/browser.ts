// The script-tag build: `window.Telegraphy` is the class, whose static register, unregister
// and configure drive a default instance (the original Telegraphy API). A page may set
// `window.TELEGRAPHY_CONFIG` before loading the script instead of calling configure.

import { Telegraphy, type TelegraphyOptions } from './client';

const config = (globalThis as { TELEGRAPHY_CONFIG?: TelegraphyOptions }).TELEGRAPHY_CONFIG;
(globalThis as { Telegraphy?: typeof Telegraphy }).Telegraphy = Telegraphy;
if (config) Telegraphy.configure(config);
