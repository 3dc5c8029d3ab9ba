import { OpenAIProvider } from '../../src/agent/openai.js';
import { startFakeOpenAIServer } from '../support/fake-openai-server.js';
import { modelProviderContract } from './model-provider.contract.js';

modelProviderContract('openai', {
  startServer: () => startFakeOpenAIServer(),
  newProvider: (o) => new OpenAIProvider({ ...o, model: 'fake-model' }),
  requiresApiKey: false,
  reportsCacheWrites: false,
});
