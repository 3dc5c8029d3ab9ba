import { AnthropicProvider } from '../../src/agent/anthropic.js';
import { startFakeModelServer } from '../support/fake-model-server.js';
import { modelProviderContract } from './model-provider.contract.js';

modelProviderContract('anthropic', {
  startServer: () => startFakeModelServer(),
  newProvider: (o) => new AnthropicProvider({ ...o, model: 'fake-model' }),
  requiresApiKey: true,
  reportsCacheWrites: true,
});
