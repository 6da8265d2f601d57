const API_BASE = 'http://localhost:8080/api';

async function syncFromRAIDA() {
    try {
        console.log('Starting synchronization...');

        const response = await fetch(`${API_BASE}/admin/sync`, {
            method: 'POST',
            headers: {
                'Content-Type': 'application/json'
            }
        });

        const data = await response.json();

        if (!response.ok) {
            throw new Error(data.message || `HTTP error! status: ${response.status}`);
        }

        console.log(`Sync Status: ${data.status}`);
        console.log(`Users Synced: ${data.users_synced}`);
        console.log(`Servers Synced: ${data.servers_synced}`);
        console.log(`Completed at: ${data.timestamp}`);

        return data;
    } catch (error) {
        console.error('Synchronization failed:', error);
        throw error;
    }
}

// Trigger the sync
syncFromRAIDA()
    .then(result => console.log('Sync completed successfully'))
    .catch(error => console.error('Sync error:', error));
